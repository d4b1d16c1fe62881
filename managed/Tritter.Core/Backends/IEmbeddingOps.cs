using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Token embedding lookup.</summary>
public interface IEmbeddingOps
{
    /// <summary><c>output[n] = table[tokens[n]]</c>; <paramref name="tokens"/> is int32, <paramref name="table"/> is <c>[vocab, hidden]</c>.</summary>
    void Embedding(Tensor tokens, Tensor table, Tensor output);

    /// <summary>Scatter-add: <c>tableGradient[tokens[n]] += outputGradient[n]</c>, except for the padding id 0, whose row gets no gradient (as <c>padding_idx=0</c> in PyTorch).</summary>
    void EmbeddingBackward(Tensor tokens, Tensor outputGradient, Tensor tableGradient);
}
