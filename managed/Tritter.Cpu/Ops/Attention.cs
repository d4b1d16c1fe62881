using System.Numerics.Tensors;
using Tritter.Core.Backends;

namespace Tritter.Cpu.Ops;

/// <summary>Geometry of a grouped-query attention call: q <c>[batch, seq, heads, headDim]</c>, k and v <c>[batch, seq, kvHeads, headDim]</c>.</summary>
/// <param name="Batch">Sequences.</param>
/// <param name="Sequence">Positions per sequence.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="HeadDim">Width of a head.</param>
public readonly record struct AttentionShape(int Batch, int Sequence, int Heads, int KvHeads, int HeadDim)
{
    /// <summary>Query heads sharing one key/value head.</summary>
    public int Group => Heads / KvHeads;

    /// <summary>Offset of query row (b, t, h).</summary>
    public int QueryOffset(int b, int t, int h) => ((b * Sequence + t) * Heads + h) * HeadDim;

    /// <summary>Offset of key/value row (b, t, kvHead).</summary>
    public int KeyOffset(int b, int t, int kvHead) => ((b * Sequence + t) * KvHeads + kvHead) * HeadDim;

    /// <summary>Offset of the probability row of query (b, h, t).</summary>
    public int ProbabilityOffset(int b, int h, int t) => ((b * Heads + h) * Sequence + t) * Sequence;
}

/// <summary>
/// Scaled dot-product attention with grouped-query heads and masks, forward and backward, one (batch, head) pair per
/// call so the caller can spread pairs over cores. The softmax probabilities are kept for the backward pass (masked
/// entries are 0).
/// </summary>
public static class Attention
{
    /// <summary>Attention of query head <paramref name="h"/> of sequence <paramref name="b"/>; <paramref name="segmentIds"/> is <c>[batch, seq]</c> or empty.</summary>
    public static void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, ReadOnlySpan<int> segmentIds,
        AttentionMask mask, AttentionShape shape, int b, int h, Span<float> output, Span<float> probabilities)
    {
        var (t, d) = (shape.Sequence, shape.HeadDim);
        var kvHead = h / shape.Group;
        var scale = 1f / MathF.Sqrt(d);
        for (var i = 0; i < t; i++)
        {
            var q = query.Slice(shape.QueryOffset(b, i, h), d);
            var p = probabilities.Slice(shape.ProbabilityOffset(b, h, i), t);
            var max = float.NegativeInfinity;
            for (var j = 0; j < t; j++)
            {
                if (!Visible(mask, segmentIds, shape, b, i, j))
                {
                    p[j] = float.NegativeInfinity;
                    continue;
                }
                p[j] = TensorPrimitives.Dot(q, key.Slice(shape.KeyOffset(b, j, kvHead), d)) * scale;
                max = MathF.Max(max, p[j]);
            }
            var o = output.Slice(shape.QueryOffset(b, i, h), d);
            o.Clear();
            if (float.IsNegativeInfinity(max))
            {
                p.Clear();
                continue;
            }
            var sum = 0f;
            for (var j = 0; j < t; j++)
            {
                p[j] = MathF.Exp(p[j] - max);
                sum += p[j];
            }
            var inverse = 1f / sum;
            for (var j = 0; j < t; j++)
            {
                p[j] *= inverse;
                if (p[j] != 0)
                    TensorPrimitives.MultiplyAdd(value.Slice(shape.KeyOffset(b, j, kvHead), d), p[j], o, o);
            }
        }
    }

    /// <summary>
    /// Gradients for key/value head <paramref name="kvHead"/> of sequence <paramref name="b"/> and its group of query
    /// heads: overwrites their rows of the three gradients. <paramref name="scratch"/> holds one probability row.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
        ReadOnlySpan<float> probabilities, AttentionShape shape, int b, int kvHead,
        Span<float> queryGradient, Span<float> keyGradient, Span<float> valueGradient, Span<float> scratch)
    {
        var (t, d) = (shape.Sequence, shape.HeadDim);
        var scale = 1f / MathF.Sqrt(d);
        for (var j = 0; j < t; j++)
        {
            keyGradient.Slice(shape.KeyOffset(b, j, kvHead), d).Clear();
            valueGradient.Slice(shape.KeyOffset(b, j, kvHead), d).Clear();
        }
        var scoreGradient = scratch[..t];
        for (var h = kvHead * shape.Group; h < (kvHead + 1) * shape.Group; h++)
        {
            for (var i = 0; i < t; i++)
            {
                var p = probabilities.Slice(shape.ProbabilityOffset(b, h, i), t);
                var dOut = outputGradient.Slice(shape.QueryOffset(b, i, h), d);
                var q = query.Slice(shape.QueryOffset(b, i, h), d);
                var dq = queryGradient.Slice(shape.QueryOffset(b, i, h), d);
                dq.Clear();
                // dP = dOut . v_j; dS = P (dP - sum_j P dP): the softmax Jacobian applied to dP.
                var weighted = 0f;
                for (var j = 0; j < t; j++)
                {
                    if (p[j] == 0)
                    {
                        scoreGradient[j] = 0;
                        continue;
                    }
                    var dv = valueGradient.Slice(shape.KeyOffset(b, j, kvHead), d);
                    TensorPrimitives.MultiplyAdd(dOut, p[j], dv, dv);
                    scoreGradient[j] = TensorPrimitives.Dot(dOut, value.Slice(shape.KeyOffset(b, j, kvHead), d));
                    weighted += p[j] * scoreGradient[j];
                }
                for (var j = 0; j < t; j++)
                {
                    if (p[j] == 0)
                        continue;
                    var ds = p[j] * (scoreGradient[j] - weighted) * scale;
                    TensorPrimitives.MultiplyAdd(key.Slice(shape.KeyOffset(b, j, kvHead), d), ds, dq, dq);
                    var dk = keyGradient.Slice(shape.KeyOffset(b, j, kvHead), d);
                    TensorPrimitives.MultiplyAdd(q, ds, dk, dk);
                }
            }
        }
    }

    private static bool Visible(AttentionMask mask, ReadOnlySpan<int> segmentIds, AttentionShape shape, int b, int query, int key) =>
        segmentIds.IsEmpty
            ? mask.IsVisible(query, key, 0, 0)
            : mask.IsVisible(query, key, segmentIds[b * shape.Sequence + query], segmentIds[b * shape.Sequence + key]);
}
