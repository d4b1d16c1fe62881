using Tritter.Core.Backends;
using Tritter.Core.Model;
using Tritter.Core.Tensors;

namespace Tritter.Core.Training;

/// <summary>
/// AdamW over named parameters with global-norm clipping. Moments are float32 (or, to halve the optimiser state,
/// bfloat16) tensors on the parameters' backend; parameters marked without weight decay (biases, norms) are never decayed.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly IBackend _backend;
    private readonly IReadOnlyList<NamedParameter> _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly AdamWParameter[] _updates;

    /// <summary>Allocates zeroed moments of <paramref name="momentType"/> (Float32 or BFloat16) for every parameter.</summary>
    public AdamWOptimizer(IBackend backend, IReadOnlyList<NamedParameter> parameters, DType momentType = DType.Float32)
    {
        if (momentType is not (DType.Float32 or DType.BFloat16))
            throw new ArgumentOutOfRangeException(nameof(momentType), momentType, "AdamW moments are Float32 or BFloat16");
        _backend = backend;
        _parameters = parameters;
        MomentType = momentType;
        _firstMoments = [.. parameters.Select(p => Zeroed(p.Value.Shape))];
        _secondMoments = [.. parameters.Select(p => Zeroed(p.Value.Shape))];
        _updates = [.. parameters.Select((p, i) => new AdamWParameter(p.Value, p.Gradient, _firstMoments[i], _secondMoments[i], p.WeightDecay))];
    }

    /// <summary>The element type of the moments.</summary>
    public DType MomentType { get; }

    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>L2 norm of all gradients together.</summary>
    public double GradientNorm() => Math.Sqrt(_backend.SumOfSquares([.. _parameters.Select(p => p.Gradient)]));

    /// <summary>
    /// Clips the gradients to <paramref name="maxGradientNorm"/> (if positive) and updates every parameter; returns the
    /// gradient norm before clipping.
    /// </summary>
    /// <remarks>
    /// <paramref name="gradientNorm"/>, when given, is the norm of the gradients as they stand, already computed by the
    /// caller. With gradient accumulation the gradients hold the sum over <paramref name="accumulatedBatches"/> batches
    /// of each batch's mean gradient; the update uses their mean, and the returned norm is the mean's.
    /// </remarks>
    public double Update(double learningRate, double weightDecay, double beta1, double beta2, double epsilon, double maxGradientNorm,
        double? gradientNorm = null, int accumulatedBatches = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(accumulatedBatches);
        var norm = (gradientNorm ?? GradientNorm()) / accumulatedBatches;
        var scale = (maxGradientNorm > 0 && norm > maxGradientNorm ? maxGradientNorm / norm : 1.0) / accumulatedBatches;
        Step++;
        _backend.AdamW(_updates, new AdamWSettings((float)learningRate, (float)beta1, (float)beta2, (float)epsilon, (float)weightDecay, Step, (float)scale));
        return norm;
    }

    /// <summary>The moments of every parameter, by parameter name, as the checkpoint stores them.</summary>
    public IEnumerable<(string Parameter, Tensor ExpAvg, Tensor ExpAvgSq)> Moments =>
        _parameters.Select((p, i) => (p.Name, _firstMoments[i], _secondMoments[i]));

    /// <summary>Continues a run from a checkpoint: the step count (moments are loaded through <see cref="Moments"/>).</summary>
    public void RestoreStep(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose()
    {
        foreach (var t in _firstMoments.Concat(_secondMoments))
            t.Dispose();
    }

    private Tensor Zeroed(TensorShape shape)
    {
        var tensor = _backend.Allocate(MomentType, shape);
        if (MomentType == DType.Float32)
            _backend.Fill(tensor, 0);
        else
            _backend.Upload<ushort>(tensor, new ushort[tensor.ElementCount]);
        return tensor;
    }
}
