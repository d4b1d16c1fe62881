namespace Tritter.Core.Training;

/// <summary>Shape and length of a training run, and how often it evaluates and saves.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Optimiser settings and learning-rate schedule.</summary>
    public required TrainingOptions Optimizer { get; init; }

    /// <summary>Steps to reach (a resumed run continues up to it).</summary>
    public required int Steps { get; init; }

    /// <summary>Sequences per micro-batch.</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Positions per sequence.</summary>
    public int SequenceLength { get; init; } = 64;

    /// <summary>Micro-batches per optimiser step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Seed of the model's initialisation and of the data sampler.</summary>
    public int Seed { get; init; }

    /// <summary>Evaluate the held-out loss every this many steps (0: never).</summary>
    public int EvalEvery { get; init; } = 50;

    /// <summary>Held-out batches per evaluation.</summary>
    public int EvalBatches { get; init; } = 4;

    /// <summary>Save a checkpoint every this many steps (0: only at the end and on cancellation).</summary>
    public int SaveEvery { get; init; } = 100;

    /// <summary>Consecutive skipped (non-finite) steps after which the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 5;

    /// <summary>Throws for values outside their ranges, naming the option.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SequenceLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(GradientAccumulation);
        ArgumentOutOfRangeException.ThrowIfNegative(EvalEvery);
        ArgumentOutOfRangeException.ThrowIfNegative(SaveEvery);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(EvalBatches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConsecutiveSkips);
    }
}
