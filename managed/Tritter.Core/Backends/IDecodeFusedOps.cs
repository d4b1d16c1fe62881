using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Core.Backends;

/// <summary>
/// Ops of one decoder block's step that each do the work of a sequence of ops of the other families in one pass (one
/// kernel on the GPU, where every launch costs a few microseconds of a decode step): the same float32 operations in the
/// same order, so each gives the bits of its sequence on the same backend.
/// </summary>
public interface IDecodeFusedOps
{
    /// <summary>
    /// The attention inputs of new tokens from their stacked q|k|v projection <paramref name="projection"/> (float32
    /// <c>[tokens, (numHeads + 2 kvHeads) headDim]</c>, each token's query heads, then key heads, then value heads): QK-Norm
    /// of every query and key head (LayerNorm over headDim, <paramref name="epsilon"/>), RoPE of both at positions
    /// <paramref name="firstPosition"/> onwards, the keys and values quantised into slots <paramref name="firstSlot"/>
    /// onwards of <paramref name="cache"/>, the queries written to <paramref name="query"/> (float32
    /// <c>[tokens, numHeads, headDim]</c>, or <c>[numHeads, headDim]</c> for one token). As
    /// <see cref="INormOps.LayerNorm"/> of queries and keys, <see cref="IRopeOps.Rope(Tensor, Tensor, double, long)"/> of
    /// both and <see cref="IKvCacheOps.KvCacheWrite"/>.
    /// </summary>
    void AttentionInputs(Tensor projection, Tensor queryNormWeight, Tensor queryNormBias, Tensor keyNormWeight, Tensor keyNormBias,
        float epsilon, double ropeTheta, long firstPosition, KvCacheInt4Layer cache, int firstSlot, Tensor query);

    /// <summary>
    /// The gated MLP activation from the stacked gate|up projection <paramref name="gateUp"/> (float32
    /// <c>[tokens, 2 inter]</c>, its features interleaved: gate i at 2i, up i at 2i + 1):
    /// <c>output[t, i] = sqrelu(gateUp[t, 2i]) * gateUp[t, 2i + 1]</c> into <paramref name="output"/>
    /// (<c>[tokens, inter]</c>). As <see cref="IActivationOps.SquaredRelu"/> of the gates then
    /// <see cref="IElementwiseOps.Multiply"/> by the ups.
    /// </summary>
    void GatedSquaredRelu(Tensor gateUp, Tensor output);

    /// <summary>
    /// <c>output = LayerNorm(a + b)</c> over rows of <c>weight.Length</c> elements, the residual add and the norm after
    /// it: as <see cref="IElementwiseOps.Add"/> then <see cref="INormOps.LayerNorm"/>, without the row statistics (which
    /// only a backward pass reads). <paramref name="output"/> may be <paramref name="a"/> or <paramref name="b"/>.
    /// </summary>
    void AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon);

    /// <summary>
    /// <see cref="AddLayerNorm"/>, then <c>nextOutput = LayerNorm(output)</c> with <paramref name="nextWeight"/>,
    /// <paramref name="nextBias"/> and <paramref name="nextEpsilon"/>: a block's post norm and the next block's input
    /// norm (or the final norm) in one pass, as two <see cref="INormOps.LayerNorm"/> after the add.
    /// </summary>
    void AddLayerNormThenNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon,
        Tensor nextWeight, Tensor nextBias, float nextEpsilon, Tensor nextOutput);

    /// <summary>
    /// <c>output = residual + input (Q * scale)^T + bias</c>: <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/> then
    /// <see cref="IElementwiseOps.Add"/> of <paramref name="residual"/> (<c>[M, N]</c>, as <paramref name="output"/>),
    /// the attention output's product and the residual add after it.
    /// </summary>
    void TernaryMatmulAdd(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor residual, Tensor output);

    /// <summary>
    /// <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/> of weights whose rows are interleaved gate|up pairs
    /// (<c>N = 2 inter</c>), then <see cref="GatedSquaredRelu"/> of the product into <paramref name="output"/>
    /// (<c>[M, inter]</c>), the product itself never written where the backend fuses the two (a decode step's one row
    /// on the GPU).
    /// </summary>
    void GatedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output);
}
