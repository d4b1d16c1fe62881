using BenchmarkDotNet.Attributes;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Core.Training;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// One GPU training step (forward, loss, backward, clipping, AdamW) of a preset at a batch shape, timed on the device.
/// The FLOP count is the usual 6 x parameters x tokens plus the attention products (causal: half of 12 x layers x
/// tokens x sequence x hidden); TFLOP/s over the mma peak is the model FLOPs utilisation. A shape ending in
/// <c>/lean</c> trains with activation recomputation and bfloat16 AdamW moments, the means that fit the 1B preset in
/// 16 GB; each case prints the backend's peak device memory when it ends.
/// </summary>
public class TrainingStepGpuBenchmarks : GpuBenchmark
{
    private TritterModel _model = null!;
    private Trainer _trainer = null!;
    private TrainingBatch _batch = null!;
    private double _flops;

    /// <summary>Preset, batch and sequence length, optionally <c>/lean</c>.</summary>
    [Params("small/8x512", "1B/1x2048", "1B/1x2048/lean")]
    public string Shape { get; set; } = "small/8x512";

    /// <summary>What the dense products round their operands to.</summary>
    [Params(MatmulPrecision.BFloat16, MatmulPrecision.Tf32)]
    public MatmulPrecision Precision { get; set; }

    /// <summary>Builds the model, trainer and a fixed random batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        Gpu.MatmulPrecision = Precision;
        Gpu.Memory.ResetPeak();
        var parts = Shape.Split('/', 'x');
        var lean = parts.Length > 3 && parts[3] == "lean";
        var (batch, sequence) = (int.Parse(parts[1]), int.Parse(parts[2]));
        var config = TritterPresets.Get(parts[0]);
        var random = new Random(1);
        var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, sequence + 1).Select(_ => random.Next(1, config.VocabSize)).ToArray()).ToArray();
        _batch = TrainingBatch.NextToken(sequences);
        _model = new TritterModel(Gpu, config, seed: 1);
        _trainer = new Trainer(_model, new TrainingOptions
        {
            Schedule = new LearningRateSchedule(1e-3, 1e-4, 10, 1_000_000),
            RecomputeActivations = lean,
            MomentType = lean ? DType.BFloat16 : DType.Float32,
        }, batch, sequence);
        var tokens = (double)batch * sequence;
        _flops = 6.0 * config.ParameterCount * tokens + 6.0 * config.NumLayers * tokens * sequence * config.NumHeads * config.HeadDim;
    }

    /// <summary>One training step.</summary>
    [Benchmark]
    public void Step() => Timed(() => _trainer.Step(_batch), bytes: 0, flops: _flops);

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// peak device memory of {Shape}: tensors {Gpu.Memory.PeakBytes / (1024.0 * 1024 * 1024):F2} GiB; " +
            $"in use now by the driver's count (scratch and contexts included) {Gpu.DeviceBytesInUse / (1024.0 * 1024 * 1024):F2} GiB");
        _trainer.Dispose();
        _model.Dispose();
        CloseDevice();
    }
}
