using Tritter.Core.Backends;

namespace Tritter.Tests.Support;

/// <summary>Naive float64 implementations of the ops, written for clarity, never for speed.</summary>
public static class Reference
{
    /// <summary>y[n, m] = sum_k x[n, k] w[m, k] + b[m].</summary>
    public static double[] Matmul(double[] x, double[] w, double[]? bias, int inFeatures, int outFeatures)
    {
        var rows = x.Length / inFeatures;
        var y = new double[rows * outFeatures];
        for (var n = 0; n < rows; n++)
            for (var m = 0; m < outFeatures; m++)
            {
                var sum = bias?[m] ?? 0;
                for (var k = 0; k < inFeatures; k++)
                    sum += x[n * inFeatures + k] * w[m * inFeatures + k];
                y[n * outFeatures + m] = sum;
            }
        return y;
    }

    /// <summary>LayerNorm of each row of <paramref name="weight"/>.Length elements.</summary>
    public static double[] LayerNorm(double[] x, double[] weight, double[] bias, double epsilon)
    {
        var d = weight.Length;
        var y = new double[x.Length];
        for (var r = 0; r < x.Length / d; r++)
        {
            var row = x.AsSpan(r * d, d);
            var mean = 0.0;
            foreach (var v in row)
                mean += v;
            mean /= d;
            var variance = 0.0;
            foreach (var v in row)
                variance += (v - mean) * (v - mean);
            variance /= d;
            for (var i = 0; i < d; i++)
                y[r * d + i] = (row[i] - mean) / Math.Sqrt(variance + epsilon) * weight[i] + bias[i];
        }
        return y;
    }

    /// <summary>Rotate-half RoPE over [batch, seq, heads, headDim].</summary>
    public static double[] Rope(double[] x, int sequence, int heads, int headDim, double theta, long firstPosition = 0)
    {
        var half = headDim / 2;
        var y = new double[x.Length];
        for (var r = 0; r < x.Length / headDim; r++)
        {
            var t = firstPosition + r / heads % sequence;
            for (var i = 0; i < half; i++)
            {
                var angle = t * Math.Pow(theta, -2.0 * i / headDim);
                var (x1, x2) = (x[r * headDim + i], x[r * headDim + half + i]);
                y[r * headDim + i] = x1 * Math.Cos(angle) - x2 * Math.Sin(angle);
                y[r * headDim + half + i] = x2 * Math.Cos(angle) + x1 * Math.Sin(angle);
            }
        }
        return y;
    }

    /// <summary>Grouped-query masked attention; q [b, t, h, d], k and v [b, t, kv, d]; fills <paramref name="logSumExp"/> [b, h, t] when given.</summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int batch, int sequence, int heads, int kvHeads, int headDim,
        AttentionMask mask, int[]? segments, double[]? logSumExp = null)
    {
        var output = new double[q.Length];
        var scores = new double[sequence];
        for (var b = 0; b < batch; b++)
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / (heads / kvHeads);
                for (var i = 0; i < sequence; i++)
                {
                    var max = double.NegativeInfinity;
                    for (var j = 0; j < sequence; j++)
                    {
                        var visible = mask.IsVisible(i, j, segments?[b * sequence + i] ?? 0, segments?[b * sequence + j] ?? 0);
                        var s = 0.0;
                        for (var c = 0; c < headDim; c++)
                            s += q[((b * sequence + i) * heads + h) * headDim + c] * k[((b * sequence + j) * kvHeads + kvh) * headDim + c];
                        scores[j] = visible ? s / Math.Sqrt(headDim) : double.NegativeInfinity;
                        max = Math.Max(max, scores[j]);
                    }
                    var sum = 0.0;
                    for (var j = 0; j < sequence; j++)
                        sum += scores[j] = Math.Exp(scores[j] - max);
                    if (logSumExp is not null)
                        logSumExp[(b * heads + h) * sequence + i] = max + Math.Log(sum);
                    for (var j = 0; j < sequence; j++)
                        for (var c = 0; c < headDim; c++)
                            output[((b * sequence + i) * heads + h) * headDim + c] += scores[j] / sum * v[((b * sequence + j) * kvHeads + kvh) * headDim + c];
                }
            }
        return output;
    }

    /// <summary>Sum over rows of logsumexp(logits) - logits[target], padding targets skipped.</summary>
    public static double CrossEntropySum(double[] logits, int[] targets, int vocab)
    {
        var total = 0.0;
        for (var n = 0; n < targets.Length; n++)
        {
            if (targets[n] == 0)
                continue;
            var row = logits.AsSpan(n * vocab, vocab);
            var max = double.NegativeInfinity;
            foreach (var v in row)
                max = Math.Max(max, v);
            var sum = 0.0;
            foreach (var v in row)
                sum += Math.Exp(v - max);
            total += max + Math.Log(sum) - row[targets[n]];
        }
        return total;
    }
}
