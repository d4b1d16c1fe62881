using Tritter.Core.Config;
using Tritter.Core.Model;

namespace Tritter.Tests.Inference;

/// <summary>
/// An independent float64 decoder for a float (BitNet off) model, one token at a time, with unquantised keys and values
/// and an explicit choice of which earlier positions a query sees: all of them, or the StreamingLLM set (the first
/// <c>sinks</c> positions and the most recent <c>capacity - sinks</c>). Keys keep the RoPE of their original position.
/// </summary>
public sealed class NaiveStreamingDecoder
{
    private readonly TritterConfig _c;
    private readonly Dictionary<string, double[]> _p;
    private readonly List<double[]>[] _keys;
    private readonly List<double[]>[] _values;

    public NaiveStreamingDecoder(TritterModel model)
    {
        if (model.Config.UseBitnet)
            throw new ArgumentException("the naive decoder reads float weights", nameof(model));
        _c = model.Config;
        _p = model.Parameters.ToDictionary(p => p.Name, p =>
        {
            var host = new float[p.Value.ElementCount];
            model.Backend.Download<float>(p.Value, host);
            return host.Select(v => (double)v).ToArray();
        });
        _keys = [.. Enumerable.Range(0, _c.NumLayers).Select(_ => new List<double[]>())];
        _values = [.. Enumerable.Range(0, _c.NumLayers).Select(_ => new List<double[]>())];
    }

    /// <summary>Feeds the token at the next position; returns its logits, attending over <paramref name="visible"/> positions (null: all).</summary>
    public double[] Step(int token, Func<int, IEnumerable<int>>? visible = null) =>
        StepEmbedding(_p["embed_tokens.embedding.weight"].AsSpan(token * _c.HiddenSize, _c.HiddenSize).ToArray(), visible);

    /// <summary>Feeds <paramref name="x"/> as the next position's input embedding (a latent step); returns its logits.</summary>
    public double[] StepEmbedding(double[] x, Func<int, IEnumerable<int>>? visible = null)
    {
        var (d, heads, kvHeads, dim) = (_c.HiddenSize, _c.NumHeads, _c.NumKvHeads, _c.HeadDim);
        var position = _keys[0].Count;
        for (var l = 0; l < _c.NumLayers; l++)
        {
            var pre = $"layers.{l}";
            var n = Norm(x, $"{pre}.input_layernorm");
            var q = Linear(n, $"{pre}.attention.q_proj");
            var k = Linear(n, $"{pre}.attention.k_proj");
            var v = Linear(n, $"{pre}.attention.v_proj");
            for (var h = 0; h < heads; h++)
                Rope(Norm(q.AsSpan(h * dim, dim).ToArray(), $"{pre}.attention.q_norm"), position).CopyTo(q, h * dim);
            for (var h = 0; h < kvHeads; h++)
                Rope(Norm(k.AsSpan(h * dim, dim).ToArray(), $"{pre}.attention.k_norm"), position).CopyTo(k, h * dim);
            _keys[l].Add(k);
            _values[l].Add(v);
            var seen = (visible?.Invoke(position) ?? Enumerable.Range(0, position + 1)).ToArray();
            var attention = new double[d];
            for (var h = 0; h < heads; h++)
            {
                var kv = h / (heads / kvHeads);
                var scores = seen.Select(j => Enumerable.Range(0, dim).Sum(i => q[h * dim + i] * _keys[l][j][kv * dim + i]) / Math.Sqrt(dim)).ToArray();
                var max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var total = weights.Sum();
                for (var s = 0; s < seen.Length; s++)
                    for (var i = 0; i < dim; i++)
                        attention[h * dim + i] += weights[s] / total * _values[l][seen[s]][kv * dim + i];
            }
            var hidden = Add(x, Linear(attention, $"{pre}.attention.o_proj"));
            var gate = Linear(hidden, $"{pre}.mlp.gate_proj");
            var up = Linear(hidden, $"{pre}.mlp.up_proj");
            var gated = gate.Select((g, i) => Math.Max(g, 0) * g * up[i]).ToArray();
            x = Norm(Add(hidden, Linear(gated, $"{pre}.mlp.down_proj")), $"{pre}.post_mlp_layernorm");
        }
        return Linear(Norm(x, "norm"), "lm_head");
    }

    /// <summary>The StreamingLLM set at <paramref name="position"/>: the sinks and the latest <c>capacity - sinks</c> positions.</summary>
    public static Func<int, IEnumerable<int>> Streaming(int capacity, int sinks) => position => position < capacity
        ? Enumerable.Range(0, position + 1)
        : Enumerable.Range(0, sinks).Concat(Enumerable.Range(position - (capacity - sinks) + 1, capacity - sinks));

    private double[] Linear(double[] x, string name)
    {
        var w = _p[$"{name}.weight"];
        var outFeatures = w.Length / x.Length;
        var bias = _p.GetValueOrDefault($"{name}.bias");
        var y = new double[outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            var sum = bias?[o] ?? 0;
            for (var i = 0; i < x.Length; i++)
                sum += w[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    private double[] Norm(double[] x, string name)
    {
        var (w, b) = (_p[$"{name}.weight"], _p[$"{name}.bias"]);
        var mean = x.Average();
        var variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        var rstd = 1 / Math.Sqrt(variance + _c.NormEpsilon);
        return [.. x.Select((v, i) => (v - mean) * rstd * w[i] + b[i])];
    }

    private double[] Rope(double[] x, int position)
    {
        var half = x.Length / 2;
        var y = new double[x.Length];
        for (var i = 0; i < half; i++)
        {
            var angle = position * Math.Pow(_c.RopeTheta, -2.0 * i / x.Length);
            y[i] = x[i] * Math.Cos(angle) - x[half + i] * Math.Sin(angle);
            y[half + i] = x[half + i] * Math.Cos(angle) + x[i] * Math.Sin(angle);
        }
        return y;
    }

    private static double[] Add(double[] a, double[] b) => [.. a.Select((v, i) => v + b[i])];
}
