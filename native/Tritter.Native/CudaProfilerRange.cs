namespace Tritter.Native.Cuda;

/// <summary>
/// Brackets work for a profiler started with collection off (<c>ncu --profile-from-start off</c>): only the kernels
/// launched between construction and <see cref="Dispose"/> are profiled. Without a profiler attached it does nothing.
/// </summary>
public sealed class CudaProfilerRange : IDisposable
{
    private bool _open;

    /// <summary>Starts collection in the current context.</summary>
    public CudaProfilerRange()
    {
        CuCheck.Call(CuDriver.cuProfilerStart());
        _open = true;
    }

    /// <summary>Stops collection.</summary>
    public void Dispose()
    {
        if (!_open)
            return;
        _open = false;
        CuCheck.Call(CuDriver.cuProfilerStop());
    }
}
