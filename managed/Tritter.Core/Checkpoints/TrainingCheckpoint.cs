namespace Tritter.Core.Checkpoints;

/// <summary>
/// Optimizer state and training position beside a model checkpoint: <c>optimizer.safetensors</c> holds AdamW's moments
/// of every parameter (<c>&lt;name&gt;.exp_avg</c>, <c>&lt;name&gt;.exp_avg_sq</c>) with the step in its metadata, and
/// <c>trainer_state.json</c> holds step, sampler position and RNG state. The trainer state is written last and the
/// steps must agree, so a save interrupted between the two files is detected on open rather than silently resumed.
/// </summary>
public sealed class TrainingCheckpoint : IDisposable
{
    /// <summary>File name of the optimizer state.</summary>
    public const string OptimizerFileName = "optimizer.safetensors";

    /// <summary>File name of the training position.</summary>
    public const string StateFileName = "trainer_state.json";

    private const string StepKey = "step";

    private TrainingCheckpoint(SafetensorsFile optimizer, TrainerState state)
    {
        Optimizer = optimizer;
        State = state;
    }

    /// <summary>The optimizer state file.</summary>
    public SafetensorsFile Optimizer { get; }

    /// <summary>The training position.</summary>
    public TrainerState State { get; }

    /// <summary>Writes the moments and then the trainer state into <paramref name="directory"/>, each file atomically.</summary>
    public static void Save(string directory, IEnumerable<AdamWMoments> moments, TrainerState state)
    {
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Metadata["optimizer"] = "adamw";
        writer.Metadata[StepKey] = state.Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var m in moments)
        {
            writer.AddFloat32(m.ExpAvg.Name, m.ExpAvg.LongShape, m.ExpAvg.Data);
            writer.AddFloat32(m.ExpAvgSq.Name, m.ExpAvgSq.LongShape, m.ExpAvgSq.Data);
        }
        writer.Write(Path.Combine(directory, OptimizerFileName));
        AtomicFile.WriteAllText(Path.Combine(directory, StateFileName), state.ToJson());
    }

    /// <summary>Opens the optimizer state and training position in <paramref name="directory"/> and checks they belong together.</summary>
    public static TrainingCheckpoint Open(string directory)
    {
        var statePath = Path.Combine(directory, StateFileName);
        var state = TrainerState.Parse(File.ReadAllBytes(statePath), statePath);
        var optimizer = SafetensorsFile.Open(Path.Combine(directory, OptimizerFileName));
        var expected = state.Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!optimizer.Metadata.TryGetValue(StepKey, out var step) || step != expected)
        {
            optimizer.Dispose();
            throw new InvalidDataException($"{optimizer.Path}: optimizer state is of step {step ?? "(none)"} but {statePath} is at step {expected}; the save was interrupted");
        }
        return new TrainingCheckpoint(optimizer, state);
    }

    /// <summary>Reads the moments of <paramref name="parameter"/> into <paramref name="expAvg"/> and <paramref name="expAvgSq"/>.</summary>
    public void ReadMoments(string parameter, Span<float> expAvg, Span<float> expAvgSq)
    {
        Optimizer.ReadFloat32(CheckpointNames.ExpAvg(parameter), expAvg);
        Optimizer.ReadFloat32(CheckpointNames.ExpAvgSq(parameter), expAvgSq);
    }

    /// <inheritdoc />
    public void Dispose() => Optimizer.Dispose();
}
