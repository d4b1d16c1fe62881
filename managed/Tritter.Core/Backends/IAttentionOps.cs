using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Scaled dot-product attention with grouped-query heads: q <c>[batch, seq, heads, head_dim]</c>, k and v
/// <c>[batch, seq, kv_heads, head_dim]</c>, query head h reading kv head <c>h / (heads / kv_heads)</c>, scores scaled
/// by <c>1/sqrt(head_dim)</c> and masked by <see cref="AttentionMask"/>. Flash-attention style: no
/// <c>seq x seq</c> matrix is kept; the backward pass recomputes the probabilities from the saved log-sum-exp.
/// </summary>
public interface IAttentionOps
{
    /// <summary>
    /// Writes <paramref name="output"/> (shaped as q) and <paramref name="logSumExp"/> (float32 <c>[batch, heads, seq]</c>),
    /// the log of each query row's softmax denominator over its scaled, visible scores (negative infinity for a row that
    /// sees no key), kept for the backward pass. <paramref name="segmentIds"/> (int32 <c>[batch, seq]</c>) is required in
    /// document-boundary mode and ignored otherwise.
    /// </summary>
    void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor logSumExp);

    /// <summary>
    /// Overwrites the three input gradients, recomputing the probabilities as <c>exp(score - logSumExp)</c> from the
    /// forward pass's <paramref name="output"/> and <paramref name="logSumExp"/> under the same mask and segment ids.
    /// </summary>
    void AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor output, Tensor logSumExp,
        Tensor? segmentIds, AttentionMask mask, Tensor queryGradient, Tensor keyGradient, Tensor valueGradient);
}
