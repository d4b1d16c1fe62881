using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Token embedding lookup.</summary>
public interface IEmbeddingOps
{
    /// <summary><c>output[n] = table[tokens[n]]</c>; <paramref name="tokens"/> is int32, <paramref name="table"/> is <c>[vocab, hidden]</c>.</summary>
    void Embedding(Tensor tokens, Tensor table, Tensor output);

    /// <summary>Scatter-add: <c>tableGradient[tokens[n]] += outputGradient[n]</c>.</summary>
    void EmbeddingBackward(Tensor tokens, Tensor outputGradient, Tensor tableGradient);
}
