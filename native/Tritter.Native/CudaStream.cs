namespace Tritter.Native.Cuda;

/// <summary>A stream of work that runs in order; independent streams may overlap.</summary>
public sealed class CudaStream : IDisposable
{
    private const uint NonBlocking = 1;

    private CudaStream(IntPtr handle) => Handle = handle;

    /// <summary>The driver's stream handle.</summary>
    public IntPtr Handle { get; private set; }

    /// <summary>Creates a stream that does not synchronise with the legacy default stream.</summary>
    public static CudaStream Create()
    {
        CuCheck.Call(CuDriver.cuStreamCreate(out var handle, NonBlocking));
        return new CudaStream(handle);
    }

    /// <summary>Waits until all work queued on this stream has finished.</summary>
    public void Synchronize() => CuCheck.Call(CuDriver.cuStreamSynchronize(Handle));

    /// <summary>Makes later work on this stream wait for <paramref name="event"/>.</summary>
    public void Wait(CudaEvent @event) => CuCheck.Call(CuDriver.cuStreamWaitEvent(Handle, @event.Handle, 0));

    /// <inheritdoc />
    public void Dispose()
    {
        if (Handle == IntPtr.Zero)
            return;
        CuDriver.cuStreamDestroy_v2(Handle);
        Handle = IntPtr.Zero;
    }
}
