using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Optimiser updates and the reductions they need.</summary>
public interface IOptimizerOps
{
    /// <summary>
    /// One AdamW step over a parameter, its gradient and its two moment tensors, all one size: parameter and gradient
    /// float32, the moments float32 or bfloat16 (updated in float32, stored rounded to nearest even).
    /// </summary>
    void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings);

    /// <summary>
    /// Sum of the squared elements of every tensor together, accumulated in float64, for global-norm clipping: one
    /// result for the lot, so that a device backend waits for the device once, not once a tensor.
    /// </summary>
    double SumOfSquares(IReadOnlyList<Tensor> tensors);
}
