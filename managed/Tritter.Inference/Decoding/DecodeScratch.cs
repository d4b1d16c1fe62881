using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Inference.Decoding;

/// <summary>
/// The activations of one forward step over <see cref="Tokens"/> new tokens of one sequence, reused layer after layer
/// and step after step. Shapes follow what each op asks: the cache's attention takes queries <c>[tokens, heads, headDim]</c>
/// (one token: <c>[heads, headDim]</c>), the projections rows of features; a view gives the attention output the shape
/// of rows, without a copy.
/// </summary>
internal sealed class DecodeScratch : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public DecodeScratch(IDecodeBackend backend, TritterConfig config, int tokens, bool withHead)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        Tokens = tokens;
        var (d, heads, dim, inter) = (config.HiddenSize, config.NumHeads, config.HeadDim, config.IntermediateSize);
        try
        {
            Tensor F(params int[] shape) => Own(backend.Allocate(DType.Float32, shape));
            TokenIds = Own(backend.Allocate(DType.Int32, [tokens]));
            Stream = F(tokens, d);
            Normed = F(tokens, d);
            QueryKeyValue = F(tokens, d + 2 * config.KvSize);
            Query = tokens == 1 ? F(heads, dim) : F(tokens, heads, dim);
            AttentionOutput = tokens == 1 ? F(heads, dim) : F(tokens, heads, dim);
            AttentionRows = Own(backend.View(AttentionOutput, 0, [tokens, d]));
            Hidden = F(tokens, d);
            GateUp = F(tokens, 2 * inter);
            Gated = F(tokens, inter);
            Down = F(tokens, d);
            RowStatistics = Own(new RowStatistics(backend, tokens));
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

    /// <summary>The stacked q|k|v projection, <c>[tokens, (heads + 2 kvHeads) headDim]</c>.</summary>
    public Tensor QueryKeyValue { get; }

    /// <summary>The queries after QK-Norm and RoPE, in the shape the cache's attention takes.</summary>
    public Tensor Query { get; }

    public Tensor AttentionOutput { get; }

    /// <summary><see cref="AttentionOutput"/> as rows of hidden features, the output projection's input.</summary>
    public Tensor AttentionRows { get; }

    public Tensor Hidden { get; }

    /// <summary>
    /// The stacked gate|up projection, <c>[tokens, 2 inter]</c>, gate i and up i side by side: written only with float32
    /// weights, since the ternary gate|up product writes the gated activation (<see cref="Gated"/>) directly.
    /// </summary>
    public Tensor GateUp { get; }

    public Tensor Gated { get; }

    public Tensor Down { get; }

    public RowStatistics RowStatistics { get; }

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
