using BenchmarkDotNet.Attributes;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;

namespace Tritter.Bench.Cpu;

/// <summary>
/// One CPU training step (forward, loss, backward, clipping, AdamW) of a small preset; tokens/s is
/// <c>batch x sequence / mean time</c>.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private CpuBackend _backend = null!;
    private TritterModel _model = null!;
    private Trainer _trainer = null!;
    private TrainingBatch _batch = null!;

    /// <summary>Preset, batch and sequence length.</summary>
    [Params("tiny/8x64", "small/4x128")]
    public string Shape { get; set; } = "tiny/8x64";

    /// <summary>Ternary scheme of the projections.</summary>
    [Params(QuantizationScheme.Reference, QuantizationScheme.Paper)]
    public QuantizationScheme Scheme { get; set; }

    /// <summary>Builds the model, trainer and a fixed random batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split('/', 'x');
        var (batch, sequence) = (int.Parse(parts[1]), int.Parse(parts[2]));
        var config = TritterPresets.Get(parts[0]) with { QuantizationScheme = Scheme };
        var random = new Random(1);
        var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, sequence + 1).Select(_ => random.Next(1, config.VocabSize)).ToArray()).ToArray();
        _batch = TrainingBatch.NextToken(sequences);
        _backend = new CpuBackend();
        _model = new TritterModel(_backend, config, seed: 1);
        var options = new TrainingOptions { Schedule = new LearningRateSchedule(1e-3, 1e-4, 10, 1_000_000) };
        _trainer = new Trainer(_model, options, batch, sequence);
    }

    /// <summary>One training step.</summary>
    [Benchmark]
    public double Step() => _trainer.Step(_batch).Loss;

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer.Dispose();
        _model.Dispose();
        _backend.Dispose();
    }
}
