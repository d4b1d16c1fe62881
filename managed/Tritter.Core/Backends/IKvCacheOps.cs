using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// The INT4 KV-cache (<c>docs/formats/kv-cache-int4.md</c>): quantise-on-write of new key/value rows, and decode
/// attention of one new token against the cached positions.
/// </summary>
public interface IKvCacheOps
{
    /// <summary>
    /// Quantises <paramref name="keys"/> and <paramref name="values"/> (float32 <c>[tokens, kvHeads, headDim]</c>, keys
    /// after RoPE) into slots <c>[firstSlot, firstSlot + tokens)</c> of <paramref name="layer"/>.
    /// </summary>
    void KvCacheWrite(Tensor keys, Tensor values, KvCacheInt4Layer layer, int firstSlot);

    /// <summary>
    /// Attention of <paramref name="query"/> (float32 <c>[numHeads, headDim]</c>, after RoPE) over slots
    /// <c>[0, length)</c> of <paramref name="layer"/>: scores scaled by <c>1/sqrt(headDim)</c>, softmax, weighted sum of
    /// the values into <paramref name="output"/> (<c>[numHeads, headDim]</c>). Query head <c>h</c> reads KV head
    /// <c>h / (numHeads / kvHeads)</c>. The slots form a set: their order does not change the result.
    /// </summary>
    void DecodeAttention(Tensor query, KvCacheInt4Layer layer, int length, Tensor output);

    /// <summary>
    /// Causal attention of the <c>tokens</c> queries just written to the cache (float32 <c>[tokens, numHeads, headDim]</c>,
    /// after RoPE) into <paramref name="output"/> (same shape): query t reads slots <c>[0, firstLength + t + 1)</c> as
    /// <see cref="DecodeAttention"/> does, so the slots must hold the sequence in order (no eviction inside the range).
    /// </summary>
    void PrefillAttention(Tensor queries, KvCacheInt4Layer layer, int firstLength, Tensor output);
}
