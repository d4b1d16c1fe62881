using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Prefetch hints: <c>kernels/prefetch.cu</c> on a second stream of its own, forked from <see cref="Stream"/> where the
/// hint is given, so the prefetch runs beside the queued work instead of behind it. Nothing on the backend's stream waits
/// for a prefetch except the end of a recorded decode step, where the capture must join every stream it forked
/// (<see cref="JoinPrefetches"/>).
/// </summary>
public sealed partial class CudaBackend : IPrefetchOps
{
    private CudaStream? _prefetchStream;
    private CudaEvent? _prefetchFork;
    private CudaEvent? _prefetchJoin;
    private bool _prefetchUnjoined;

    /// <summary>
    /// Whether <see cref="Prefetch"/> launches anything: on unless turned off, which is only for measuring what
    /// prefetching gains (the decode bench suite) or ruling it out.
    /// </summary>
    public bool PrefetchEnabled { get; set; } = true;

    /// <inheritdoc />
    public void Prefetch(Tensor tensor)
    {
        var source = Own(tensor);
        if (!PrefetchEnabled || source.Bytes == 0)
            return;
        MakeCurrent();
        _prefetchStream ??= CudaStream.Create();
        _prefetchFork ??= CudaEvent.CreateForOrdering();
        _prefetchJoin ??= CudaEvent.CreateForOrdering();
        // Past half the L2, the tensor's own later lines would evict its first ones before the reader gets to them.
        var bytes = Math.Min(source.Bytes, Device.L2CacheBytes / 2);
        _prefetchFork.Record(Stream);
        _prefetchStream.Wait(_prefetchFork);
        Kernel("prefetch", "l2_prefetch").Launch(KernelLaunch.L2Prefetch(bytes, Device), _prefetchStream, source.Pointer, bytes);
        _prefetchUnjoined = true;
    }

    /// <summary>Makes the backend's stream wait for the prefetches queued since the last join (none: nothing queued).</summary>
    private void JoinPrefetches()
    {
        if (!_prefetchUnjoined)
            return;
        _prefetchJoin!.Record(_prefetchStream!);
        Stream.Wait(_prefetchJoin);
        _prefetchUnjoined = false;
    }

    /// <summary>Waits for the prefetch stream, then frees it: before the memory it may still read is freed.</summary>
    private void DisposePrefetches()
    {
        _prefetchStream?.Synchronize();
        _prefetchFork?.Dispose();
        _prefetchJoin?.Dispose();
        _prefetchStream?.Dispose();
    }
}
