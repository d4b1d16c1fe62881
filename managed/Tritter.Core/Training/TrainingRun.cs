using Tritter.Core.Backends;
using Tritter.Core.Checkpoints;
using Tritter.Core.Config;
using Tritter.Core.Model;

namespace Tritter.Core.Training;

/// <summary>What happened at one step of a run.</summary>
/// <param name="Step">The step's result.</param>
/// <param name="EvalLoss">Held-out loss, on evaluation steps.</param>
/// <param name="Saved">True when a checkpoint was written after this step.</param>
public readonly record struct TrainingRunEvent(TrainingStepResult Step, double? EvalLoss, bool Saved);

/// <summary>
/// A training run in a directory: model, optimiser and data sampler, checkpoints that lose nothing (model, optimiser
/// moments, step; the sampler's state is the step) written atomically every few steps and on cancellation, and a
/// resume that continues exactly as an uninterrupted run would.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    /// <summary>The checkpoint directory inside a run directory.</summary>
    public const string CheckpointDirectory = "checkpoint";
    private const string PartialSuffix = ".partial";
    private const string PreviousSuffix = ".previous";

    private readonly IBackend _backend;
    private readonly TrainingRunOptions _options;
    private readonly string _directory;
    private readonly TokenWindowSampler _train;
    private readonly TokenWindowSampler _eval;
    private readonly TritterModel _model;
    private readonly Trainer _trainer;

    private TrainingRun(IBackend backend, TritterModel model, TrainingRunOptions options, string directory, ReadOnlyMemory<int> trainTokens, ReadOnlyMemory<int> evalTokens)
    {
        _backend = backend;
        _model = model;
        _options = options;
        _directory = directory;
        _trainer = new Trainer(model, options.Optimizer, options.Batch, options.SequenceLength);
        _train = new TokenWindowSampler(trainTokens, options.Batch, options.SequenceLength, (ulong)options.Seed);
        _eval = new TokenWindowSampler(evalTokens, options.Batch, options.SequenceLength, (ulong)options.Seed ^ 0x5EEDUL);
    }

    /// <summary>The model being trained.</summary>
    public TritterModel Model => _model;

    /// <summary>Optimiser steps taken so far (restored on resume).</summary>
    public int Step => _trainer.Optimizer.Step;

    /// <summary>Starts a new run of <paramref name="config"/> in <paramref name="directory"/>.</summary>
    public static TrainingRun Start(IBackend backend, TritterConfig config, TrainingRunOptions options, string directory,
        ReadOnlyMemory<int> trainTokens, ReadOnlyMemory<int> evalTokens)
    {
        options.Validate();
        if (options.SequenceLength > config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence length {options.SequenceLength} exceeds the model's {config.MaxPositionEmbeddings} positions", nameof(options));
        Directory.CreateDirectory(directory);
        var model = new TritterModel(backend, config, options.Seed);
        return new TrainingRun(backend, model, options, directory, trainTokens, evalTokens);
    }

    /// <summary>
    /// Continues the run in <paramref name="directory"/> from its last checkpoint, with its stored configuration, seed,
    /// batch shape and alpha curriculum (those of <paramref name="options"/> are replaced);
    /// <paramref name="config"/>, when given, must equal it.
    /// </summary>
    public static TrainingRun Resume(IBackend backend, TritterConfig? config, TrainingRunOptions options, string directory,
        ReadOnlyMemory<int> trainTokens, ReadOnlyMemory<int> evalTokens)
    {
        options.Validate();
        var checkpoint = LatestCheckpoint(directory)
            ?? throw new InvalidDataException($"{directory}: no checkpoint to resume from (expected {CheckpointDirectory}/)");
        var stored = ModelState.ReadConfig(checkpoint);
        if (config is not null && config != stored)
            throw new InvalidDataException($"{checkpoint}: the checkpoint's configuration differs from the one given; resume with the stored one (omit --preset/--config)");
        // The data stream is a function of the seed and the batch shape: continue with the ones the run started with.
        using (var training = TrainingCheckpoint.Open(checkpoint))
            options = WithStoredAlpha(WithStoredShape(options, training.State.RngState, checkpoint), training.State.AlphaSchedule, checkpoint);
        var model = new TritterModel(backend, stored, options.Seed);
        var run = new TrainingRun(backend, model, options, directory, trainTokens, evalTokens);
        ModelState.LoadModel(checkpoint, backend, model);
        ModelState.LoadTraining(checkpoint, backend, run._trainer.Optimizer);
        return run;
    }

    /// <summary>The newest complete checkpoint of the run in <paramref name="directory"/>, or null.</summary>
    public static string? LatestCheckpoint(string directory)
    {
        var current = Path.Combine(directory, CheckpointDirectory);
        if (Directory.Exists(current))
            return current;
        // A crash between the two renames of a save leaves the previous checkpoint under its side name.
        var previous = current + PreviousSuffix;
        return Directory.Exists(previous) ? previous : null;
    }

    /// <summary>
    /// Trains until step <see cref="TrainingRunOptions.Steps"/>, reporting every step; saves every
    /// <see cref="TrainingRunOptions.SaveEvery"/> steps, at the end, and when <paramref name="cancellationToken"/> fires
    /// (then rethrows). Stops with <see cref="InvalidOperationException"/> after too many consecutive non-finite steps,
    /// before any of them reaches a checkpoint.
    /// </summary>
    public void Run(IProgress<TrainingRunEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        var skips = 0;
        while (Step < _options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Save();
                cancellationToken.ThrowIfCancellationRequested();
            }
            var next = Step + 1;
            var micro = Enumerable.Range(0, _options.GradientAccumulation)
                .Select(m => _train.BatchAt((next - 1) * _options.GradientAccumulation + m + 1)).ToArray();
            var result = _trainer.Step(micro);
            if (result.Skipped)
            {
                skips++;
                progress?.Report(new TrainingRunEvent(result, null, false));
                if (skips >= _options.MaxConsecutiveSkips)
                    throw new InvalidOperationException($"training stopped: {skips} consecutive steps had a non-finite loss or gradient (last loss {result.Loss}, gradient norm {result.GradientNorm}); the last checkpoint is unchanged");
                // A skipped step draws the next batch: retrying the same one would fail the same way.
                _trainer.Optimizer.RestoreStep(Step + 1);
                continue;
            }
            skips = 0;
            double? eval = _options.EvalEvery > 0 && (Step % _options.EvalEvery == 0 || Step == _options.Steps) ? Evaluate() : null;
            var save = Step == _options.Steps || (_options.SaveEvery > 0 && Step % _options.SaveEvery == 0);
            if (save)
                Save();
            progress?.Report(new TrainingRunEvent(result, eval, save));
        }
    }

    /// <summary>What the sampler's stream depends on, kept in the trainer state: <c>seed=S;batch=B;seq=T;accum=A</c>.</summary>
    private static string StoredShape(TrainingRunOptions o) =>
        FormattableString.Invariant($"seed={o.Seed};batch={o.Batch};seq={o.SequenceLength};accum={o.GradientAccumulation}");

    private static TrainingRunOptions WithStoredShape(TrainingRunOptions options, string stored, string checkpoint)
    {
        var fields = stored.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2))
            .Where(kv => kv.Length == 2 && int.TryParse(kv[1], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _))
            .ToDictionary(kv => kv[0], kv => int.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);
        if (!fields.TryGetValue("seed", out var seed) || !fields.TryGetValue("batch", out var batch) || !fields.TryGetValue("seq", out var sequence) || !fields.TryGetValue("accum", out var accumulation))
            throw new InvalidDataException($"{checkpoint}: trainer state \"{stored}\" does not record the run's seed and batch shape");
        return options with { Seed = seed, Batch = batch, SequenceLength = sequence, GradientAccumulation = accumulation };
    }

    /// <summary>The stored curriculum replaces the given one (none stored: the configuration's constant alpha).</summary>
    private static TrainingRunOptions WithStoredAlpha(TrainingRunOptions options, string? stored, string checkpoint)
    {
        AlphaSchedule? alpha;
        try
        {
            alpha = stored is null ? null : AlphaSchedule.Parse(stored);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{checkpoint}: trainer state's alpha schedule is invalid ({e.Message})", e);
        }
        return options with { Optimizer = options.Optimizer with { Alpha = alpha } };
    }

    /// <summary>Mean held-out loss over <see cref="TrainingRunOptions.EvalBatches"/> fixed batches.</summary>
    public double Evaluate()
    {
        var total = 0.0;
        for (var i = 1; i <= _options.EvalBatches; i++)
            total += _trainer.Evaluate(_eval.BatchAt(i));
        return total / _options.EvalBatches;
    }

    /// <summary>
    /// Writes the checkpoint atomically as a directory: into a side directory first, then two renames, so a crash at any
    /// moment leaves either the old or the new checkpoint complete.
    /// </summary>
    public void Save()
    {
        var target = Path.Combine(_directory, CheckpointDirectory);
        var partial = target + PartialSuffix;
        var previous = target + PreviousSuffix;
        if (Directory.Exists(partial))
            Directory.Delete(partial, recursive: true);
        ModelState.SaveModel(partial, _backend, _model);
        ModelState.SaveTraining(partial, _backend, _trainer.Optimizer, new TrainerState(Step, Step, StoredShape(_options), _options.Optimizer.Alpha?.ToString()));
        if (Directory.Exists(target))
        {
            if (Directory.Exists(previous))
                Directory.Delete(previous, recursive: true);
            Directory.Move(target, previous);
        }
        Directory.Move(partial, target);
        if (Directory.Exists(previous))
            Directory.Delete(previous, recursive: true);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _trainer.Dispose();
        _model.Dispose();
    }
}
