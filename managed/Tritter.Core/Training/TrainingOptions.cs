using Tritter.Core.Tensors;

namespace Tritter.Core.Training;

/// <summary>Optimiser settings of a training run.</summary>
public sealed record TrainingOptions
{
    /// <summary>Learning-rate curve.</summary>
    public required LearningRateSchedule Schedule { get; init; }

    /// <summary>
    /// The embedding-prediction weight per step; null is the model configuration's constant
    /// <see cref="Config.TritterConfig.EmbeddingPredictionAlpha"/>.
    /// </summary>
    public AlphaSchedule? Alpha { get; init; }

    /// <summary>AdamW decoupled weight decay for weights, scales and the embedding.</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>AdamW first-moment decay.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW second-moment decay.</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>AdamW denominator guard.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Keep one layer's activations and recompute each block's forward pass in the backward pass (see <see cref="Model.TritterActivations.RecomputesBlocks"/>).</summary>
    public bool RecomputeActivations { get; init; }

    /// <summary>Element type of the AdamW moments: Float32, or BFloat16 for half the optimiser state.</summary>
    public DType MomentType { get; init; } = DType.Float32;

    /// <summary>Global gradient-norm clip; non-positive disables clipping.</summary>
    public double MaxGradientNorm { get; init; } = 1.0;
}
