using System.Diagnostics;
using Tritter.Core.Model;

namespace Tritter.Core.Training;

/// <summary>What one training step did.</summary>
/// <param name="Step">1-based step number.</param>
/// <param name="Loss">Loss of the batch before the update.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
/// <param name="LearningRate">Rate used.</param>
/// <param name="Tokens">Tokens in the batch.</param>
/// <param name="Elapsed">Wall time of the step.</param>
/// <param name="Skipped">True when the loss or the gradient was not finite and the update was not applied.</param>
/// <param name="Alpha">Weight of the embedding-prediction loss in this step's loss.</param>
public readonly record struct TrainingStepResult(int Step, double Loss, double GradientNorm, double LearningRate, int Tokens, TimeSpan Elapsed,
    bool Skipped = false, double Alpha = 0);

/// <summary>
/// Quantisation-aware training of a <see cref="TritterModel"/> at a fixed batch shape: forward, loss, backward,
/// global-norm clipping, AdamW.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly TritterModel _model;
    private readonly TrainingOptions _options;
    private readonly TritterActivations _activations;
    private readonly AdamWOptimizer _optimizer;

    /// <summary>Allocates activations for <paramref name="batch"/> x <paramref name="sequence"/> and the optimiser state.</summary>
    public Trainer(TritterModel model, TrainingOptions options, int batch, int sequence)
    {
        options.Alpha?.Validate();
        _model = model;
        _options = options;
        _activations = model.CreateActivations(batch, sequence, recomputeBlocks: options.RecomputeActivations);
        _optimizer = new AdamWOptimizer(model.Backend, model.Parameters, options.MomentType);
    }

    /// <summary>The optimiser, for checkpoints.</summary>
    public AdamWOptimizer Optimizer => _optimizer;

    /// <summary>Mean loss of <paramref name="batch"/> without updating anything (held-out evaluation).</summary>
    public double Evaluate(TrainingBatch batch) => _model.Forward(_activations, batch, Alpha(_optimizer.Step));

    /// <summary>The embedding-prediction weight at <paramref name="step"/>: the schedule's, else the configuration's.</summary>
    public double Alpha(int step) => _options.Alpha?.At(step) ?? _model.Config.EmbeddingPredictionAlpha;

    /// <summary>One step on <paramref name="batch"/>.</summary>
    public TrainingStepResult Step(TrainingBatch batch) => Step([batch]);

    /// <summary>
    /// One optimiser step over the gradients of several micro-batches (gradient accumulation): the update uses the mean
    /// of their gradients, and the reported loss is the mean of their losses.
    /// </summary>
    public TrainingStepResult Step(IReadOnlyList<TrainingBatch> microBatches)
    {
        if (microBatches.Count == 0)
            throw new ArgumentException("a step needs at least one batch", nameof(microBatches));
        var started = Stopwatch.GetTimestamp();
        var step = _optimizer.Step + 1;
        _model.StartGradients();
        var loss = 0.0;
        var tokens = 0;
        var alpha = Alpha(step);
        foreach (var batch in microBatches)
        {
            loss += _model.Forward(_activations, batch, alpha) / microBatches.Count;
            _model.Backward(_activations);
            tokens += batch.Tokens.Length;
        }
        _model.CompleteGradients();
        var schedule = _options.Schedule;
        var learningRate = schedule.LearningRate(step);
        var summedNorm = _optimizer.GradientNorm();
        // A non-finite loss or gradient would poison every parameter it touches: skip the update, keep the step count.
        if (!double.IsFinite(loss) || !double.IsFinite(summedNorm))
            return new TrainingStepResult(step, loss, summedNorm, learningRate, tokens, Stopwatch.GetElapsedTime(started), Skipped: true, alpha);
        var norm = _optimizer.Update(learningRate, _options.WeightDecay * schedule.WeightDecayFactor(step),
            _options.Beta1, _options.Beta2, _options.Epsilon, _options.MaxGradientNorm, summedNorm, microBatches.Count);
        return new TrainingStepResult(step, loss, norm, learningRate, tokens, Stopwatch.GetElapsedTime(started), Alpha: alpha);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> steps, taking step i's batch from <paramref name="batches"/>(i), reporting each
    /// step and stopping between steps when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public IReadOnlyList<TrainingStepResult> Train(Func<int, TrainingBatch> batches, int steps, IProgress<TrainingStepResult>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var results = new List<TrainingStepResult>(steps);
        for (var i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = Step(batches(i));
            results.Add(result);
            progress?.Report(result);
        }
        return results;
    }

    /// <summary>Frees the activations and optimiser state (not the model).</summary>
    public void Dispose()
    {
        _activations.Dispose();
        _optimizer.Dispose();
    }
}
