using BenchmarkDotNet.Attributes;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;

namespace Tritter.Bench.Cpu;

/// <summary>
/// The CPU twins of the GPU training-op suites, with the same byte floors (see <c>LayerNormGpuBenchmarks</c>,
/// <c>CrossEntropyGpuBenchmarks</c>, <c>AdamWGpuBenchmarks</c>): LayerNorm forward and backward over 4096 tokens x 2048,
/// cross-entropy over 1024 tokens x 65536 vocab (a quarter of the GPU's rows: 256 MiB of logits keeps the setup short
/// and is still far beyond every CPU cache), AdamW over a 4096 x 11008 parameter. Inputs are not rotated: each is
/// larger than any last-level cache, so one call streams them from memory.
/// </summary>
[Config(typeof(HostBandwidthConfig))]
public class TrainingOpsCpuBenchmarks
{
    private const int Rows = 4096, Width = 2048, LossRows = 1024, Vocab = 65536, ParameterRows = 4096, ParameterColumns = 11008;
    private static readonly AdamWSettings Settings = new(1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 10, 1f);
    private CpuBackend _cpu = null!;
    private Tensor _x = null!, _y = null!, _dy = null!, _dx = null!, _mean = null!, _rstd = null!;
    private Tensor _weight = null!, _bias = null!, _dWeight = null!, _dBias = null!;
    private Tensor _logits = null!, _targets = null!, _losses = null!, _logitsGradient = null!;
    private Tensor _p = null!, _g = null!, _m = null!, _v = null!;

    /// <summary>Allocates the inputs and states each op's floor.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _x = TensorFill.Uniform(_cpu, [Rows, Width], 1);
        _dy = TensorFill.Uniform(_cpu, [Rows, Width], 2);
        _y = _cpu.Allocate(DType.Float32, [Rows, Width]);
        _dx = _cpu.Allocate(DType.Float32, [Rows, Width]);
        _mean = _cpu.Allocate(DType.Float32, [Rows]);
        _rstd = _cpu.Allocate(DType.Float32, [Rows]);
        _weight = TensorFill.Uniform(_cpu, [Width], 3);
        _bias = TensorFill.Uniform(_cpu, [Width], 4);
        _dWeight = _cpu.Allocate(DType.Float32, [Width]);
        _dBias = _cpu.Allocate(DType.Float32, [Width]);
        _cpu.LayerNorm(_x, _weight, _bias, _y, _mean, _rstd, 1e-5f);
        _logits = TensorFill.Uniform(_cpu, [LossRows, Vocab], 5);
        _targets = TensorFill.Ids(_cpu, LossRows, Vocab, 6, out _);
        _losses = _cpu.Allocate(DType.Float32, [LossRows]);
        _logitsGradient = _cpu.Allocate(DType.Float32, [LossRows, Vocab]);
        _p = TensorFill.Uniform(_cpu, [ParameterRows, ParameterColumns], 7);
        _g = TensorFill.Uniform(_cpu, [ParameterRows, ParameterColumns], 8);
        _m = TensorFill.Uniform(_cpu, [ParameterRows, ParameterColumns], 9);
        _v = TensorFill.Constant(_cpu, [ParameterRows, ParameterColumns], 1e-4f);
        HostBytes.Set(this, nameof(LayerNormForward), 8L * Rows * Width + 8L * Rows + 8L * Width);
        HostBytes.Set(this, nameof(LayerNormBackward), 12L * Rows * Width + 8L * Rows + 12L * Width);
        HostBytes.Set(this, nameof(CrossEntropy), 8L * LossRows * Vocab + 8L * LossRows);
        HostBytes.Set(this, nameof(AdamW), 28L * ParameterRows * ParameterColumns);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _cpu.Dispose();

    /// <summary>LayerNorm forward, 4096 x 2048.</summary>
    [Benchmark]
    public void LayerNormForward() => _cpu.LayerNorm(_x, _weight, _bias, _y, _mean, _rstd, 1e-5f);

    /// <summary>LayerNorm backward, 4096 x 2048.</summary>
    [Benchmark]
    public void LayerNormBackward() => _cpu.LayerNormBackward(_dy, _x, _weight, _mean, _rstd, _dx, _dWeight, _dBias);

    /// <summary>Cross-entropy with its gradient, 1024 x 65536.</summary>
    [Benchmark]
    public void CrossEntropy() => _cpu.CrossEntropy(_logits, _targets, _losses, _logitsGradient, 1f / LossRows);

    /// <summary>AdamW over 4096 x 11008 parameters.</summary>
    [Benchmark]
    public void AdamW() => _cpu.AdamW([new AdamWParameter(_p, _g, _m, _v, Decays: true)], Settings);
}
