using System.Numerics.Tensors;
using Tritter.Core.Backends;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Scaled dot-product attention with grouped-query heads and masks, forward and backward, one (batch, head) pair per
/// call so the caller can spread pairs over cores. Like the GPU kernels, it keeps no <c>seq x seq</c> matrix: the
/// forward pass saves each row's log-sum-exp and the backward pass recomputes the probabilities a row at a time.
/// </summary>
public static class Attention
{
    /// <summary>
    /// Attention of query head <paramref name="h"/> of sequence <paramref name="b"/>; <paramref name="segmentIds"/> is
    /// <c>[batch, seq]</c> or empty; <paramref name="scores"/> holds one row of <c>seq</c> scores.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, ReadOnlySpan<int> segmentIds,
        AttentionMask mask, AttentionGeometry shape, int b, int h, Span<float> output, Span<float> logSumExp, Span<float> scores)
    {
        var (t, d) = (shape.Sequence, shape.HeadDim);
        var kvHead = h / shape.Group;
        var p = scores[..t];
        for (var i = 0; i < t; i++)
        {
            var max = Scores(query.Slice(shape.QueryOffset(b, i, h), d), key, segmentIds, mask, shape, b, i, kvHead, p);
            var o = output.Slice(shape.QueryOffset(b, i, h), d);
            o.Clear();
            if (float.IsNegativeInfinity(max))
            {
                logSumExp[shape.RowOffset(b, h, i)] = float.NegativeInfinity;
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
                if (p[j] != 0)
                    TensorPrimitives.MultiplyAdd(value.Slice(shape.KeyOffset(b, j, kvHead), d), p[j] * inverse, o, o);
            }
            logSumExp[shape.RowOffset(b, h, i)] = max + MathF.Log(sum);
        }
    }

    /// <summary>
    /// Gradients for key/value head <paramref name="kvHead"/> of sequence <paramref name="b"/> and its group of query
    /// heads: overwrites their rows of the three gradients. <paramref name="scratch"/> holds two rows of <c>seq</c>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
        ReadOnlySpan<float> output, ReadOnlySpan<float> logSumExp, ReadOnlySpan<int> segmentIds, AttentionMask mask, AttentionGeometry shape,
        int b, int kvHead, Span<float> queryGradient, Span<float> keyGradient, Span<float> valueGradient, Span<float> scratch)
    {
        var (t, d) = (shape.Sequence, shape.HeadDim);
        var scale = 1f / MathF.Sqrt(d);
        for (var j = 0; j < t; j++)
        {
            keyGradient.Slice(shape.KeyOffset(b, j, kvHead), d).Clear();
            valueGradient.Slice(shape.KeyOffset(b, j, kvHead), d).Clear();
        }
        var p = scratch[..t];
        var scoreGradient = scratch.Slice(t, t);
        for (var h = kvHead * shape.Group; h < (kvHead + 1) * shape.Group; h++)
        {
            for (var i = 0; i < t; i++)
            {
                var q = query.Slice(shape.QueryOffset(b, i, h), d);
                var dq = queryGradient.Slice(shape.QueryOffset(b, i, h), d);
                dq.Clear();
                var lse = logSumExp[shape.RowOffset(b, h, i)];
                if (float.IsNegativeInfinity(Scores(q, key, segmentIds, mask, shape, b, i, kvHead, p)))
                    continue;
                var dOut = outputGradient.Slice(shape.QueryOffset(b, i, h), d);
                // dS = P (dP - D) with dP_j = dOut . v_j and D = sum_j P_j dP_j = dOut . out: the softmax Jacobian.
                var weighted = TensorPrimitives.Dot(dOut, output.Slice(shape.QueryOffset(b, i, h), d));
                for (var j = 0; j < t; j++)
                {
                    p[j] = MathF.Exp(p[j] - lse);
                    if (p[j] == 0)
                        continue;
                    var dv = valueGradient.Slice(shape.KeyOffset(b, j, kvHead), d);
                    TensorPrimitives.MultiplyAdd(dOut, p[j], dv, dv);
                    scoreGradient[j] = TensorPrimitives.Dot(dOut, value.Slice(shape.KeyOffset(b, j, kvHead), d));
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

    // The scaled scores of query row i (negative infinity where masked) into scores; returns their maximum.
    private static float Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> key, ReadOnlySpan<int> segmentIds, AttentionMask mask,
        AttentionGeometry shape, int b, int i, int kvHead, Span<float> scores)
    {
        var scale = 1f / MathF.Sqrt(shape.HeadDim);
        var max = float.NegativeInfinity;
        for (var j = 0; j < shape.Sequence; j++)
        {
            var visible = segmentIds.IsEmpty
                ? mask.IsVisible(i, j, 0, 0)
                : mask.IsVisible(i, j, segmentIds[b * shape.Sequence + i], segmentIds[b * shape.Sequence + j]);
            scores[j] = visible ? TensorPrimitives.Dot(q, key.Slice(shape.KeyOffset(b, j, kvHead), shape.HeadDim)) * scale : float.NegativeInfinity;
            max = MathF.Max(max, scores[j]);
        }
        return max;
    }
}
