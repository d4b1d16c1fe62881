using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Scaled dot-product attention with grouped-query heads: q <c>[batch, seq, heads, head_dim]</c>, k and v
/// <c>[batch, seq, kv_heads, head_dim]</c>, query head h reading kv head <c>h / (heads / kv_heads)</c>, scores scaled
/// by <c>1/sqrt(head_dim)</c> and masked by <see cref="AttentionMask"/>.
/// </summary>
public interface IAttentionOps
{
    /// <summary>
    /// Writes <paramref name="output"/> (shaped as q) and the softmax <paramref name="probabilities"/>
    /// <c>[batch, heads, seq, seq]</c> kept for the backward pass. <paramref name="segmentIds"/> (int32 <c>[batch, seq]</c>)
    /// is required in document-boundary mode and ignored otherwise.
    /// </summary>
    void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor probabilities);

    /// <summary>Overwrites the three input gradients.</summary>
    void AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor probabilities,
        Tensor queryGradient, Tensor keyGradient, Tensor valueGradient);
}
