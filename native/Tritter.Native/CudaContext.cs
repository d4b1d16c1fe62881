namespace Tritter.Native.Cuda;

/// <summary>
/// The primary context of one device, retained for the lifetime of this object. The driver's current context is per
/// thread, so every thread that launches work calls <see cref="MakeCurrent"/> first.
/// </summary>
public sealed class CudaContext : IDisposable
{
    private readonly int _device;
    private bool _disposed;

    private CudaContext(int device, IntPtr handle, CudaDeviceInfo info)
    {
        _device = device;
        Handle = handle;
        Device = info;
    }

    /// <summary>The driver's context handle.</summary>
    public IntPtr Handle { get; }

    /// <summary>The device this context runs on.</summary>
    public CudaDeviceInfo Device { get; }

    /// <summary>Initialises the driver, retains device <paramref name="ordinal"/>'s primary context and makes it current.</summary>
    public static CudaContext RetainPrimary(int ordinal = 0)
    {
        CuCheck.Call(CuDriver.cuInit(0));
        CuCheck.Call(CuDriver.cuDeviceGet(out var device, ordinal));
        CuCheck.Call(CuDriver.cuDevicePrimaryCtxRetain(out var handle, device));
        var context = new CudaContext(device, handle, CudaDeviceInfo.Query(ordinal));
        context.MakeCurrent();
        return context;
    }

    /// <summary>Makes this context current on the calling thread.</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CuCheck.Call(CuDriver.cuCtxSetCurrent(Handle));
    }

    /// <summary>Waits for all work in this context.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CuCheck.Call(CuDriver.cuCtxSynchronize());
    }

    /// <summary>Free and total device memory in bytes.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        CuCheck.Call(CuDriver.cuMemGetInfo_v2(out var free, out var total));
        return ((long)free, (long)total);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        CuDriver.cuDevicePrimaryCtxRelease_v2(_device);
    }
}
