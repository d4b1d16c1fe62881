using System.Numerics.Tensors;

namespace Tritter.Cpu.Ops;

/// <summary>Training losses fused with their gradients; target id 0 (padding) contributes nothing.</summary>
public static class Loss
{
    /// <summary>The padding token id, ignored by every loss.</summary>
    public const int PaddingId = 0;

    /// <summary>Softmax cross-entropy per row of <paramref name="logits"/>, writing its loss and its scaled gradient.</summary>
    public static void CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> logitsGradient, int vocab, float gradientScale)
    {
        SpanChecks.Length(targets.Length * vocab, logits.Length, nameof(logits));
        SpanChecks.Length(targets.Length, losses.Length, nameof(losses));
        SpanChecks.Length(logits.Length, logitsGradient.Length, nameof(logitsGradient));
        for (var n = 0; n < targets.Length; n++)
        {
            var x = logits.Slice(n * vocab, vocab);
            var g = logitsGradient.Slice(n * vocab, vocab);
            var target = targets[n];
            if ((uint)target >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"target at row {n} is outside the vocabulary of {vocab}");
            if (target == PaddingId)
            {
                losses[n] = 0;
                g.Clear();
                continue;
            }
            var max = TensorPrimitives.Max(x);
            TensorPrimitives.Subtract(x, max, g);
            TensorPrimitives.Exp(g, g);
            var sum = TensorPrimitives.Sum(g);
            losses[n] = max + MathF.Log(sum) - x[target];
            TensorPrimitives.Multiply(g, gradientScale / sum, g);
            g[target] -= gradientScale;
        }
    }

    /// <summary>
    /// Squared error per row, <c>sum (p - t)^2</c>, with <c>predictionGradient = gradientScale * 2 (p - t)</c> and
    /// <c>targetGradient = -predictionGradient</c>.
    /// </summary>
    public static void SquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, ReadOnlySpan<int> targetIds,
        Span<float> losses, Span<float> predictionGradient, Span<float> targetGradient, int width, float gradientScale)
    {
        SpanChecks.Length(targetIds.Length * width, prediction.Length, nameof(prediction));
        SpanChecks.Length(prediction.Length, target.Length, nameof(target));
        SpanChecks.Length(prediction.Length, predictionGradient.Length, nameof(predictionGradient));
        SpanChecks.Length(prediction.Length, targetGradient.Length, nameof(targetGradient));
        SpanChecks.Length(targetIds.Length, losses.Length, nameof(losses));
        for (var n = 0; n < targetIds.Length; n++)
        {
            var g = predictionGradient.Slice(n * width, width);
            var gt = targetGradient.Slice(n * width, width);
            if (targetIds[n] == PaddingId)
            {
                losses[n] = 0;
                g.Clear();
                gt.Clear();
                continue;
            }
            var p = prediction.Slice(n * width, width);
            var t = target.Slice(n * width, width);
            var sum = 0f;
            for (var i = 0; i < width; i++)
            {
                var diff = p[i] - t[i];
                sum += diff * diff;
                g[i] = gradientScale * 2 * diff;
                gt[i] = -g[i];
            }
            losses[n] = sum;
        }
    }
}
