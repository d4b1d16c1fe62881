using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Softmax cross-entropy fused with its gradient over a training step's logits: 4096 tokens x 65536 vocab (every
/// preset's vocabulary), 1 GiB of float32 logits and 1 GiB of gradient, which fit beside each other on any 16 GB card
/// and are 40 times the L2, so no rotation is needed. Floor: 8 bytes per logit (read the logits once, write the
/// gradient) plus targets and losses (8 per row).
/// </summary>
public class CrossEntropyGpuBenchmarks : GpuBenchmark
{
    private const float GradientScale = 1f / Rows;
    private const int Rows = 4096;
    private Tensor _logits = null!, _targets = null!, _losses = null!, _gradient = null!;

    /// <summary>Vocabulary size.</summary>
    [Params(65536)]
    public int Vocab { get; set; }

    private long FloorBytes => 8L * Rows * Vocab + 8L * Rows;

    /// <summary>Allocates the logits, targets (no padding) and outputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        _logits = TensorFill.Uniform(Gpu, [Rows, Vocab], 1);
        _targets = TensorFill.Ids(Gpu, Rows, Vocab, 2, out _);
        _losses = Gpu.Allocate(DType.Float32, [Rows]);
        _gradient = Gpu.Allocate(DType.Float32, [Rows, Vocab]);
        Gpu.CrossEntropy(_logits, _targets, _losses, _gradient, GradientScale);
        Gpu.Synchronize();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _logits, _targets, _losses, _gradient })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary>The op as training calls it (the kernel checks the targets itself).</summary>
    [Benchmark]
    public void LossAndGradient() => Timed(() => Gpu.CrossEntropy(_logits, _targets, _losses, _gradient, GradientScale), FloorBytes);
}
