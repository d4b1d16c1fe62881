namespace Tritter.Native.Cuda;

/// <summary>A marker in a stream, used for device-side timing and cross-stream ordering.</summary>
public sealed class CudaEvent : IDisposable
{
    private CudaEvent(IntPtr handle) => Handle = handle;

    /// <summary>The driver's event handle.</summary>
    public IntPtr Handle { get; private set; }

    /// <summary>Creates an event that records timestamps.</summary>
    public static CudaEvent Create()
    {
        CuCheck.Call(CuDriver.cuEventCreate(out var handle, 0));
        return new CudaEvent(handle);
    }

    /// <summary>
    /// Creates an event only for ordering one stream after another (<see cref="CudaStream.Wait"/>): without timestamps,
    /// which makes recording and waiting on it cheaper.
    /// </summary>
    public static CudaEvent CreateForOrdering()
    {
        const uint disableTiming = 2;
        CuCheck.Call(CuDriver.cuEventCreate(out var handle, disableTiming));
        return new CudaEvent(handle);
    }

    /// <summary>Records this event at the current end of <paramref name="stream"/>.</summary>
    public void Record(CudaStream stream) => CuCheck.Call(CuDriver.cuEventRecord(Handle, stream.Handle));

    /// <summary>Waits until the recorded point is reached.</summary>
    public void Synchronize() => CuCheck.Call(CuDriver.cuEventSynchronize(Handle));

    /// <summary>Milliseconds of device time from <paramref name="start"/> to <paramref name="end"/>, both recorded and reached.</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        CuCheck.Call(CuDriver.cuEventElapsedTime(out var milliseconds, start.Handle, end.Handle));
        return milliseconds;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Handle == IntPtr.Zero)
            return;
        CuDriver.cuEventDestroy_v2(Handle);
        Handle = IntPtr.Zero;
    }
}
