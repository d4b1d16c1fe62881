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
    /// <c>[tokens, 2 inter]</c>): <c>output[t, i] = sqrelu(gateUp[t, i]) * gateUp[t, inter + i]</c> into
    /// <paramref name="output"/> (<c>[tokens, inter]</c>). As <see cref="IActivationOps.SquaredRelu"/> then
    /// <see cref="IElementwiseOps.Multiply"/>.
    /// </summary>
    void GatedSquaredRelu(Tensor gateUp, Tensor output);

    /// <summary>
    /// <c>output = LayerNorm(a + b)</c> over rows of <c>weight.Length</c> elements, the residual add and the norm after
    /// it: as <see cref="IElementwiseOps.Add"/> then <see cref="INormOps.LayerNorm"/>, without the row statistics (which
    /// only a backward pass reads). <paramref name="output"/> may be <paramref name="a"/> or <paramref name="b"/>.
    /// </summary>
    void AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon);

    /// <summary>
    /// <c>output = residual + X (Q * scale)^T + bias</c> (without <paramref name="residual"/> where it is null), X the
    /// activations of <paramref name="input"/> computed from its source: the input's op (LayerNorm, or
    /// <see cref="GatedSquaredRelu"/>), <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/>, then
    /// <see cref="IElementwiseOps.Add"/> of the residual, in one pass where the backend can (a decode step's one-row
    /// products on the GPU), so a block's input norm, its MLP activation and its attention residual cost no launch of
    /// their own. <paramref name="residual"/> is <c>[M, N]</c> like <paramref name="output"/>; neither may alias the input.
    /// </summary>
    void FusedTernaryMatmul(TernaryInput input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor? residual, Tensor output);
}
