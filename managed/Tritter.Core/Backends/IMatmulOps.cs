using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Dense float32 matrix products of a linear layer. Weights are <c>[out, in]</c> as in PyTorch; inputs and outputs are
/// any shape whose element count is rows times the feature count, so <c>[batch, seq, features]</c> works directly.
/// </summary>
public interface IMatmulOps
{
    /// <summary>
    /// <c>output[n, m] = sum_k input[n, k] weight[m, k] + bias[m]</c>, plus <c>residual[n, m]</c> when given (a
    /// projection whose output joins a residual stream; a tensor other than the output).
    /// </summary>
    void Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output, Tensor? residual = null);

    /// <summary>
    /// The backward products of <see cref="Matmul"/>: <c>inputGradient = outputGradient weight</c> (skipped when null; or
    /// <c>+=</c> with <paramref name="accumulateInputGradient"/>, for an input that feeds several products),
    /// <c>weightGradient += outputGradient^T input</c> (or <c>=</c> with <paramref name="overwriteWeightGradient"/>,
    /// which spares the caller clearing it and the product reading it back), <c>biasGradient += column sums of outputGradient</c>.
    /// </summary>
    void MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient,
        bool overwriteWeightGradient = false, bool accumulateInputGradient = false);

    /// <summary>
    /// The element type in which a producer of <c>[out, <paramref name="inFeatures"/>]</c> weights for these products
    /// (<see cref="ITernaryOps.TernarizeRows"/>) or of <c>[rows, <paramref name="inFeatures"/>]</c> inputs
    /// (<see cref="ConvertOperand"/>) should write them: <see cref="DType.Float32"/>, or <see cref="DType.BFloat16"/>
    /// where the backend multiplies in bf16 anyway, so that no copy is made per product. <see cref="Matmul"/> and
    /// <see cref="MatmulBackward"/> accept a weight and an input of the type named here.
    /// </summary>
    DType WeightType(int inFeatures);

    /// <summary>
    /// <paramref name="destination"/> = <paramref name="source"/> (float32) in the destination's type, bf16 rounded to
    /// nearest even or float32 copied: an input that several products (and their backward passes) read, converted once
    /// to <see cref="WeightType"/> of its last dimension.
    /// </summary>
    void ConvertOperand(Tensor source, Tensor destination);
}
