using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Tests.KvCache;

/// <summary>Inputs and float64 references shared by the KV-cache tests.</summary>
internal static class KvTestData
{
    /// <summary>Gaussian rows (sigma 1) where a few channels carry outliers of 8-20 sigma, as keys after RoPE do.</summary>
    public static float[] Rows(Random random, int rows, int headDim)
    {
        var outliers = new[] { 3 % headDim, 37 % headDim, headDim - 5 };
        var x = new float[rows * headDim];
        for (var r = 0; r < rows; r++)
        {
            for (var d = 0; d < headDim; d++)
                x[r * headDim + d] = (float)Gaussian(random);
            foreach (var d in outliers)
                x[r * headDim + d] *= (float)(8 + 12 * random.NextDouble());
        }
        return x;
    }

    /// <summary>A standard normal sample (Box-Muller).</summary>
    public static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Softmax attention in float64 of one query over <paramref name="keys"/>/<paramref name="values"/> rows.</summary>
    public static double[] Attention(ReadOnlySpan<float> query, IReadOnlyList<float[]> keys, IReadOnlyList<float[]> values)
    {
        var d = query.Length;
        var scores = new double[keys.Count];
        for (var j = 0; j < keys.Count; j++)
        {
            double dot = 0;
            for (var i = 0; i < d; i++)
                dot += (double)query[i] * keys[j][i];
            scores[j] = dot / Math.Sqrt(d);
        }
        var max = scores.Max();
        var output = new double[d];
        double sum = 0;
        for (var j = 0; j < keys.Count; j++)
        {
            var p = Math.Exp(scores[j] - max);
            sum += p;
            for (var i = 0; i < d; i++)
                output[i] += p * values[j][i];
        }
        for (var i = 0; i < d; i++)
            output[i] /= sum;
        return output;
    }

    /// <summary>The four arrays of a layer, downloaded.</summary>
    public static (byte[] KeyData, Half[] KeyScales, byte[] ValueData, Half[] ValueScales) Download(ITensorStore store, KvCacheInt4Layer layer)
    {
        var kd = new byte[layer.KeyData.ElementCount];
        var ks = new Half[layer.KeyScales.ElementCount];
        var vd = new byte[layer.ValueData.ElementCount];
        var vs = new Half[layer.ValueScales.ElementCount];
        store.Download<byte>(layer.KeyData, kd);
        store.Download<Half>(layer.KeyScales, ks);
        store.Download<byte>(layer.ValueData, vd);
        store.Download<Half>(layer.ValueScales, vs);
        return (kd, ks, vd, vs);
    }

    /// <summary>A float32 tensor on <paramref name="store"/> holding <paramref name="data"/>.</summary>
    public static Tensor Upload(ITensorStore store, float[] data, TensorShape shape)
    {
        var t = store.Allocate(DType.Float32, shape);
        store.Upload<float>(t, data);
        return t;
    }
}
