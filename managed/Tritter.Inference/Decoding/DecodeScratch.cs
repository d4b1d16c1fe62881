using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>
/// The activations of one forward step over <see cref="Tokens"/> new tokens of one sequence, reused layer after layer
/// and step after step. Shapes follow what each op asks: RoPE works on <c>[1, tokens, heads, headDim]</c>, the cache on
/// <c>[tokens, heads, headDim]</c> (one token: <c>[heads, headDim]</c>, what decode attention takes), the projections
/// on rows of <c>hidden</c> features; views give one buffer the shape each op wants, without copies.
/// </summary>
internal sealed class DecodeScratch : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public DecodeScratch(IDecodeBackend backend, TritterConfig config, int tokens, bool withHead)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        Tokens = tokens;
        var (d, heads, kv, dim, inter) = (config.HiddenSize, config.NumHeads, config.NumKvHeads, config.HeadDim, config.IntermediateSize);
        try
        {
            Tensor F(params int[] shape) => Own(backend.Allocate(DType.Float32, shape));
            TokenIds = Own(backend.Allocate(DType.Int32, [tokens]));
            Stream = F(tokens, d);
            Normed = F(tokens, d);
            Query = F(1, tokens, heads, dim);
            Key = F(1, tokens, kv, dim);
            Value = F(tokens, kv, dim);
            QueryRotated = F(1, tokens, heads, dim);
            KeyRotated = F(1, tokens, kv, dim);
            Tensor V(Tensor tensor, params int[] shape) => Own(backend.View(tensor, 0, shape));
            CacheQuery = tokens == 1 ? V(QueryRotated, heads, dim) : V(QueryRotated, tokens, heads, dim);
            CacheKey = V(KeyRotated, tokens, kv, dim);
            AttentionOutput = tokens == 1 ? F(heads, dim) : F(tokens, heads, dim);
            AttentionRows = V(AttentionOutput, tokens, d);
            Projected = F(tokens, d);
            Hidden = F(tokens, d);
            Gate = F(tokens, inter);
            Up = F(tokens, inter);
            GateActivated = F(tokens, inter);
            Gated = F(tokens, inter);
            Down = F(tokens, d);
            PreNorm = F(tokens, d);
            RowStatistics = Own(new RowStatistics(backend, tokens));
            QueryStatistics = Own(new RowStatistics(backend, tokens * heads));
            KeyStatistics = Own(new RowStatistics(backend, tokens * kv));
            if (withHead)
            {
                Final = F(tokens, d);
                Logits = F(tokens, config.VocabSize);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Tokens { get; }

    public Tensor TokenIds { get; }

    /// <summary>The residual stream: each layer's input and, after it, its output.</summary>
    public Tensor Stream { get; }

    public Tensor Normed { get; }

    public Tensor Query { get; }

    public Tensor Key { get; }

    public Tensor Value { get; }

    public Tensor QueryRotated { get; }

    public Tensor KeyRotated { get; }

    /// <summary><see cref="QueryRotated"/> in the shape the cache's attention takes.</summary>
    public Tensor CacheQuery { get; }

    /// <summary><see cref="KeyRotated"/> in the shape the cache write takes.</summary>
    public Tensor CacheKey { get; }

    public Tensor AttentionOutput { get; }

    /// <summary><see cref="AttentionOutput"/> as rows of hidden features, the output projection's input.</summary>
    public Tensor AttentionRows { get; }

    public Tensor Projected { get; }

    public Tensor Hidden { get; }

    public Tensor Gate { get; }

    public Tensor Up { get; }

    public Tensor GateActivated { get; }

    public Tensor Gated { get; }

    public Tensor Down { get; }

    public Tensor PreNorm { get; }

    public RowStatistics RowStatistics { get; }

    public RowStatistics QueryStatistics { get; }

    public RowStatistics KeyStatistics { get; }

    /// <summary>The final normalised hidden state (the predicted embedding), where this scratch computes the head.</summary>
    public Tensor? Final { get; }

    /// <summary>The output head's logits, where this scratch computes the head.</summary>
    public Tensor? Logits { get; }

    public void Dispose()
    {
        // Views first: they were created after the tensors they look into.
        for (var i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
        _owned.Clear();
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }
}
