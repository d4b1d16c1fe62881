using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// BitNet b1.58 quantisers (DESIGN.md §1). Each turns float32 shadow weights into the weights the forward pass uses;
/// their backward passes are straight-through: the quantiser's gradient is taken as the identity.
/// </summary>
public interface ITernaryOps
{
    /// <summary>
    /// Reference scheme, per row of <paramref name="weight"/> <c>[out, in]</c>: <c>alpha = mean|w|</c>,
    /// <c>q = sign(w)</c> where <c>|w| > alpha</c> else 0, <c>effectiveWeight = q * scale[row]</c>, in float32 or in
    /// the type <see cref="IMatmulOps.WeightType"/> names (rounded to nearest even).
    /// </summary>
    void TernarizeRows(Tensor weight, Tensor scale, Tensor effectiveWeight);

    /// <summary>
    /// Straight-through gradient of <see cref="TernarizeRows"/>: <c>weightGradient += effectiveGradient * scale[row]</c>,
    /// <c>scaleGradient[row] += sum(effectiveGradient * q)</c>; with <paramref name="overwrite"/>, <c>=</c> both (the bits
    /// of adding onto zeros, without the caller clearing the gradients first).
    /// </summary>
    void TernarizeRowsBackward(Tensor weight, Tensor effectiveWeightGradient, Tensor scale, Tensor weightGradient, Tensor scaleGradient, bool overwrite = false);

    /// <summary>
    /// Paper scheme, per tensor: <c>gamma = mean|W|</c>, <c>q = clamp(round(W / gamma), -1, 1)</c> into int8
    /// <paramref name="quantized"/>, <paramref name="gamma"/> (one element), and <c>effectiveWeight = q * gamma</c>.
    /// </summary>
    void TernarizeTensor(Tensor weight, Tensor quantized, Tensor gamma, Tensor effectiveWeight);

    /// <summary>
    /// Per-row absmax int8 quantisation, one row per element of <paramref name="rowScale"/>: <c>s = max|x| / 127</c>, <c>quantized = clamp(round(x / s), -127, 127)</c>,
    /// <paramref name="rowScale"/> = s and <c>dequantized = quantized * s</c> (what the straight-through backward sees).
    /// </summary>
    void QuantizeActivations(Tensor input, Tensor quantized, Tensor rowScale, Tensor dequantized);

    /// <summary>
    /// W1.58A8 product: <c>output[n, m] = (sum_k xq[n, k] q[m, k]) * gamma * rowScale[n] + bias[m]</c>, the sum taken
    /// exactly in int32.
    /// </summary>
    void TernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor quantizedWeight, Tensor gamma, Tensor? bias, Tensor output);
}
