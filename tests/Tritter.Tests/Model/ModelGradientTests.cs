using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>Whole-model gradients: finite differences in full precision; the straight-through estimator with BitNet on.</summary>
public sealed class ModelGradientTests
{
    [TestCase(AttentionMode.Causal, 0.0)]
    [TestCase(AttentionMode.DocumentBoundary, 0.3)]
    [TestCase(AttentionMode.PrefixLm, 0.3)]
    [TestCase(AttentionMode.SlidingWindow, 0.0)]
    [TestCase(AttentionMode.Bidirectional, 0.0)]
    public void Full_precision_gradients_match_finite_differences(AttentionMode mode, double alpha)
    {
        var random = TestRandom.Create();
        var config = ModelFixtures.Micro(useBitnet: false, alpha: alpha) with { AttentionMode = mode, SlidingWindow = 3 };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        using var activations = model.CreateActivations(2, 5);
        var batch = ModelFixtures.RandomBatch(random, 2, 5, config.VocabSize) with
        {
            SegmentIds = [1, 1, 2, 2, 2, 4, 4, 4, 5, 5],
            PrefixLength = 2,
        };
        model.ZeroGradients();
        model.Forward(activations, batch);
        model.Backward(activations);

        foreach (var parameter in model.Parameters)
        {
            var values = Read(backend, parameter.Value);
            var analytic = Read(backend, parameter.Gradient);
            // The six largest gradients of each tensor: float32 forward noise (~1e-6 of a loss of ~3.5) over 2h = 2e-3
            // is ~2e-3 absolute, so small gradients would only measure noise.
            var picked = Enumerable.Range(0, values.Length).OrderByDescending(i => Math.Abs(analytic[i])).Take(6).ToArray();
            foreach (var i in picked)
            {
                const float h = 1e-3f;
                var saved = values[i];
                values[i] = saved + h;
                backend.Upload<float>(parameter.Value, values);
                var plus = model.Forward(activations, batch);
                values[i] = saved - h;
                backend.Upload<float>(parameter.Value, values);
                var minus = model.Forward(activations, batch);
                values[i] = saved;
                backend.Upload<float>(parameter.Value, values);
                var numeric = (plus - minus) / (((double)saved + h) - ((double)saved - h));
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(3e-3 + 2e-2 * Math.Abs(numeric)), $"{parameter.Name}[{i}]");
            }
        }
    }

    [Test]
    public void Bitnet_gradients_are_those_of_the_full_precision_model_with_quantised_weights()
    {
        var random = TestRandom.Create();
        var seed = random.Next();
        var bitnetConfig = ModelFixtures.Micro(useBitnet: true, alpha: 0.3);
        using var backend = new CpuBackend();
        using var bitnet = new TritterModel(backend, bitnetConfig, seed);
        using var surrogate = new TritterModel(backend, bitnetConfig with { UseBitnet = false }, seed);
        var bitnetParameters = bitnet.Parameters.ToDictionary(p => p.Name);
        // The surrogate's weights are the ternary model's effective weights q * scale; everything else is copied.
        foreach (var p in surrogate.Parameters)
        {
            var source = Read(backend, bitnetParameters[p.Name].Value);
            var scaleName = p.Name.Replace(".weight", ".scale", StringComparison.Ordinal);
            if (bitnetParameters.TryGetValue(scaleName, out var scale) && scaleName != p.Name)
                source = Effective(source, Read(backend, scale.Value));
            backend.Upload<float>(p.Value, source);
        }
        var batch = ModelFixtures.RandomBatch(random, 2, 6, bitnetConfig.VocabSize);
        using var bitnetActivations = bitnet.CreateActivations(2, 6);
        using var surrogateActivations = surrogate.CreateActivations(2, 6);
        bitnet.ZeroGradients();
        surrogate.ZeroGradients();
        var bitnetLoss = bitnet.Forward(bitnetActivations, batch);
        var surrogateLoss = surrogate.Forward(surrogateActivations, batch);
        bitnet.Backward(bitnetActivations);
        surrogate.Backward(surrogateActivations);
        // Same float32 products in the same order: equal up to the last bits.
        Assert.That(bitnetLoss, Is.EqualTo(surrogateLoss).Within(1e-6 * surrogateLoss));

        var surrogateGradients = surrogate.Parameters.ToDictionary(p => p.Name, p => Read(backend, p.Gradient));
        foreach (var p in bitnet.Parameters)
        {
            var actual = Read(backend, p.Gradient);
            double[] expected;
            if (p.Name.EndsWith(".scale", StringComparison.Ordinal))
            {
                // d scale[r] = sum_k dW_eff[r, k] q[r, k]
                var weightName = p.Name[..^".scale".Length] + ".weight";
                var q = Effective(Read(backend, bitnetParameters[weightName].Value), Enumerable.Repeat(1f, actual.Length).ToArray());
                var dEffective = surrogateGradients[weightName];
                var width = q.Length / actual.Length;
                expected = [.. Enumerable.Range(0, actual.Length).Select(r => Enumerable.Range(0, width).Sum(k => (double)dEffective[r * width + k] * q[r * width + k]))];
            }
            else if (bitnetParameters.TryGetValue(p.Name.Replace(".weight", ".scale", StringComparison.Ordinal), out var scale) && p.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                // Straight-through: d shadow = dW_eff * scale[row].
                var s = Read(backend, scale.Value);
                var width = actual.Length / s.Length;
                expected = [.. surrogateGradients[p.Name].Select((g, i) => (double)g * s[i / width])];
            }
            else
                expected = ToDouble(surrogateGradients[p.Name]);
            var magnitude = expected.Max(Math.Abs);
            // Both models run the same float32 arithmetic except sums over rows of the STE, so 1e-5 of the largest gradient.
            Assert.That(actual, Is.EqualTo(expected).Within(1e-5 * Math.Max(magnitude, 1e-3)), p.Name);
        }
    }

    /// <summary>Reference-scheme effective weights: sign(w) where |w| > mean|w_row| else 0, times the row's scale.</summary>
    private static float[] Effective(float[] weight, float[] scale)
    {
        var width = weight.Length / scale.Length;
        var result = new float[weight.Length];
        for (var r = 0; r < scale.Length; r++)
        {
            var alpha = System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes(weight.AsSpan(r * width, width)) / width;
            for (var i = 0; i < width; i++)
                result[r * width + i] = (MathF.Abs(weight[r * width + i]) > alpha ? MathF.Sign(weight[r * width + i]) : 0f) * scale[r];
        }
        return result;
    }
}
