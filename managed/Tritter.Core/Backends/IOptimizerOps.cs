using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Optimiser updates and the reductions they need.</summary>
public interface IOptimizerOps
{
    /// <summary>
    /// One AdamW step over every parameter of a model at once (a device backend launches it once, not once a
    /// parameter): each with its gradient and two moment tensors of its size, the moments float32 or bfloat16 (updated
    /// in float32, stored rounded to nearest even), the same type for all.
    /// </summary>
    void AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWSettings settings);

    /// <summary>
    /// Sum of the squared elements of every tensor together, accumulated in float64, for global-norm clipping: one
    /// result for the lot, so that a device backend waits for the device once, not once a tensor.
    /// </summary>
    double SumOfSquares(IReadOnlyList<Tensor> tensors);
}
