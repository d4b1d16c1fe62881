using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Core.Training;

namespace Tritter.Bench;

/// <summary>
/// The training step that <c>TrainingStepGpuBenchmarks</c> times and <c>profile-train</c> profiles: a model of a preset
/// with its trainer and one fixed random batch. <c>lean</c> trains with activation recomputation and bfloat16 AdamW
/// moments, the means that fit the 1B preset in 16 GB.
/// </summary>
internal sealed class TrainingStepCase : IDisposable
{
    private readonly TritterModel _model;
    private readonly Trainer _trainer;
    private readonly TrainingBatch _batch;

    public TrainingStepCase(IBackend backend, TritterConfig config, int batch, int sequence, bool lean)
    {
        var random = new Random(1);
        var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, sequence + 1).Select(_ => random.Next(1, config.VocabSize)).ToArray()).ToArray();
        _batch = TrainingBatch.NextToken(sequences);
        _model = new TritterModel(backend, config, seed: 1);
        _trainer = new Trainer(_model, new TrainingOptions
        {
            Schedule = new LearningRateSchedule(1e-3, 1e-4, 10, 1_000_000),
            RecomputeActivations = lean,
            MomentType = lean ? DType.BFloat16 : DType.Float32,
        }, batch, sequence);
        var tokens = (double)batch * sequence;
        Flops = 6.0 * config.ParameterCount * tokens + 6.0 * config.NumLayers * tokens * sequence * config.NumHeads * config.HeadDim;
    }

    /// <summary>
    /// The step's model FLOPs: the usual 6 x parameters x tokens plus the attention products (causal: half of 12 x layers
    /// x tokens x sequence x hidden).
    /// </summary>
    public double Flops { get; }

    /// <summary>One step (forward, loss, backward, clipping, AdamW), enqueued on the backend.</summary>
    public void Step() => _trainer.Step(_batch);

    /// <inheritdoc />
    public void Dispose()
    {
        _trainer.Dispose();
        _model.Dispose();
    }
}
