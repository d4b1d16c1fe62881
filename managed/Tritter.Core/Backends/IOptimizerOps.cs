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

    /// <summary>Sum of squared elements, accumulated in float64, for global-norm clipping.</summary>
    double SumOfSquares(Tensor tensor);
}
