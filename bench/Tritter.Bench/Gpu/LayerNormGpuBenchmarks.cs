using BenchmarkDotNet.Attributes;
using Tritter.Core.Tensors;

namespace Tritter.Bench.Gpu;

/// <summary>
/// LayerNorm forward and backward over a training step's activations: 4096 tokens at the 1B (2048) and 7B (4096)
/// hidden sizes, rotating over input sets totalling at least 256 MiB so that no call finds its rows in the 50 MB L2.
/// Floors (bytes each op must move, R rows of width W, float32): forward reads x and writes y, 8RW, plus mean and
/// reciprocal std (8R) and the weight and bias (8W); backward reads dy and x and writes dx, 12RW, plus mean and
/// reciprocal std (8R), the weight (4W) and the two parameter gradients (8W).
/// </summary>
public class LayerNormGpuBenchmarks : GpuBenchmark
{
    private const int Rows = 4096;
    private const long RotationBytes = 256L << 20;
    private readonly List<(Tensor X, Tensor Y, Tensor Dy, Tensor Dx, Tensor Mean, Tensor Rstd)> _sets = [];
    private Tensor _weight = null!, _bias = null!, _dWeight = null!, _dBias = null!;
    private int _next;

    /// <summary>Hidden size: 2048 (1B preset), 4096 (7B).</summary>
    [Params(2048, 4096)]
    public int Width { get; set; }

    /// <summary>Allocates the rotating sets and runs each op once (module load, scratch sizing).</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        _weight = TensorFill.Uniform(Gpu, [Width], 1);
        _bias = TensorFill.Uniform(Gpu, [Width], 2);
        _dWeight = Gpu.Allocate(DType.Float32, [Width]);
        _dBias = Gpu.Allocate(DType.Float32, [Width]);
        for (var s = 0; s < TensorFill.Sets(4L * Rows * Width * sizeof(float), RotationBytes); s++)
        {
            _sets.Add((TensorFill.Uniform(Gpu, [Rows, Width], 10 + s), Gpu.Allocate(DType.Float32, [Rows, Width]),
                TensorFill.Uniform(Gpu, [Rows, Width], 100 + s), Gpu.Allocate(DType.Float32, [Rows, Width]),
                Gpu.Allocate(DType.Float32, [Rows]), Gpu.Allocate(DType.Float32, [Rows])));
        }
        foreach (var set in _sets)
            Gpu.LayerNorm(set.X, _weight, _bias, set.Y, set.Mean, set.Rstd, 1e-5f);
        var first = _sets[0];
        Gpu.LayerNormBackward(first.Dy, first.X, _weight, first.Mean, first.Rstd, first.Dx, _dWeight, _dBias);
        Gpu.Synchronize();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var set in _sets)
        {
            foreach (var t in new[] { set.X, set.Y, set.Dy, set.Dx, set.Mean, set.Rstd })
                t.Dispose();
        }
        foreach (var t in new[] { _weight, _bias, _dWeight, _dBias })
            t?.Dispose();
        CloseDevice();
    }

    /// <summary>y = (x - mean) * rstd * weight + bias, saving mean and rstd for the backward pass.</summary>
    [Benchmark]
    public void Forward()
    {
        var set = _sets[_next++ % _sets.Count];
        Timed(() => Gpu.LayerNorm(set.X, _weight, _bias, set.Y, set.Mean, set.Rstd, 1e-5f),
            8L * Rows * Width + 8L * Rows + 8L * Width);
    }

    /// <summary>dx, and the weight and bias gradients (three launches: input gradient, column partials, their sum).</summary>
    [Benchmark]
    public void Backward()
    {
        var set = _sets[_next++ % _sets.Count];
        Timed(() => Gpu.LayerNormBackward(set.Dy, set.X, _weight, set.Mean, set.Rstd, set.Dx, _dWeight, _dBias),
            12L * Rows * Width + 8L * Rows + 12L * Width);
    }
}
