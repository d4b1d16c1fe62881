using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

/// <summary>
/// Prefetch hints: nothing to do on the CPU, whose caches are far smaller than a projection's weights and whose hardware
/// prefetchers already follow the kernels' sequential reads.
/// </summary>
public sealed partial class CpuBackend : IPrefetchOps
{
    /// <inheritdoc />
    public void Prefetch(Tensor tensor) => _ = Own(tensor);
}
