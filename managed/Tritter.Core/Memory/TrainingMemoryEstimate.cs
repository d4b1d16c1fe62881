using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;

namespace Tritter.Core.Memory;

/// <summary>
/// What training a configuration at a batch shape holds in the backend's memory, all float32 as the trainer stores
/// it: the shadow parameters, their gradients, AdamW's two moments, the shared effective-weight workspace, and the
/// activation arena of one forward/backward pass (sized by running the arena's own allocation plan, so the two agree).
/// </summary>
/// <param name="ParameterBytes">Shadow weights, scales, biases, norms and the embedding.</param>
/// <param name="GradientBytes">One gradient per parameter.</param>
/// <param name="OptimizerBytes">AdamW's first and second moments (float32, or bfloat16 when the trainer stores them so).</param>
/// <param name="EffectiveWeightBytes">The ternarised weights of the projection being computed, and their gradient or int8 codes.</param>
/// <param name="ActivationBytes">The activation arena of <c>batch x sequence</c>.</param>
public sealed record TrainingMemoryEstimate(long ParameterBytes, long GradientBytes, long OptimizerBytes, long EffectiveWeightBytes, long ActivationBytes)
{
    /// <summary>Everything together: the peak of a training step.</summary>
    public long TotalBytes => ParameterBytes + GradientBytes + OptimizerBytes + EffectiveWeightBytes + ActivationBytes;

    /// <summary>
    /// The estimate for <paramref name="config"/> at <paramref name="batch"/> sequences of <paramref name="sequence"/>
    /// positions, with or without activation recomputation (one set of block activations for all layers), with AdamW
    /// moments of <paramref name="momentType"/> (float32 by default), as <see cref="Training.TrainingOptions"/> sets them.
    /// </summary>
    public static TrainingMemoryEstimate For(TritterConfig config, int batch, int sequence, bool recomputeActivations = false,
        DType momentType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var parameters = config.ParameterCount * sizeof(float);
        var moments = 2 * config.ParameterCount * momentType.SizeOf();
        return new TrainingMemoryEstimate(parameters, parameters, moments, ProjectionWorkspace.PlannedBytes(config),
            TritterActivations.PlannedBytes(config, batch, sequence, recomputeActivations));
    }
}
