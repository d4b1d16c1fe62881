namespace Tritter.Native.Cuda;

/// <summary>
/// A CUDA graph captured from a stream and instantiated: replaying it launches all the captured kernels with one call,
/// so launch overhead does not dominate short kernels.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: only this thread's unsafe API calls are prohibited during capture.
    private const int CaptureThreadLocal = 1;
    private IntPtr _graph;
    private IntPtr _exec;

    private CudaGraph(IntPtr graph, IntPtr exec)
    {
        _graph = graph;
        _exec = exec;
    }

    /// <summary>Captures the work <paramref name="enqueue"/> queues on <paramref name="stream"/> and instantiates it.</summary>
    public static CudaGraph Capture(CudaStream stream, Action enqueue)
    {
        CuCheck.Call(CuDriver.cuStreamBeginCapture_v2(stream.Handle, CaptureThreadLocal));
        try
        {
            enqueue();
        }
        catch
        {
            if (CuDriver.cuStreamEndCapture(stream.Handle, out var broken) == CuResult.CUDA_SUCCESS && broken != IntPtr.Zero)
                CuDriver.cuGraphDestroy(broken);
            throw;
        }
        CuCheck.Call(CuDriver.cuStreamEndCapture(stream.Handle, out var graph));
        var result = CuDriver.cuGraphInstantiateWithFlags(out var exec, graph, 0);
        if (result != CuResult.CUDA_SUCCESS)
        {
            CuDriver.cuGraphDestroy(graph);
            throw new CudaException("cuGraphInstantiateWithFlags", result);
        }
        return new CudaGraph(graph, exec);
    }

    /// <summary>Replays the graph on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream)
    {
        ObjectDisposedException.ThrowIf(_exec == IntPtr.Zero, this);
        CuCheck.Call(CuDriver.cuGraphLaunch(_exec, stream.Handle));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_exec != IntPtr.Zero)
            CuDriver.cuGraphExecDestroy(_exec);
        if (_graph != IntPtr.Zero)
            CuDriver.cuGraphDestroy(_graph);
        _exec = IntPtr.Zero;
        _graph = IntPtr.Zero;
    }
}
