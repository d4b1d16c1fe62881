using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>Global-norm clipping and decay groups of the optimiser.</summary>
public sealed class AdamWOptimizerTests
{
    [Test]
    public void Clipping_rescales_all_gradients_together_to_the_maximum_norm()
    {
        var random = TestRandom.Create();
        var start = TestRandom.Floats(random, 10);
        var direction = TestRandom.Floats(random, 10);
        var norm = Math.Sqrt(direction.Sum(v => (double)v * v));
        // Steps with gradients d and 3d clipped to norm 1 must equal steps with d/|d| twice, unclipped.
        var clipped = Run(start, [direction, [.. direction.Select(v => 3 * v)]], maxNorm: 1, out var norms);
        var unit = direction.Select(v => (float)(v / norm)).ToArray();
        var reference = Run(start, [unit, unit], maxNorm: 0, out _);
        Assert.That(norms, Is.EqualTo(new[] { norm, 3 * norm }).Within(1e-5 * norm));
        // The clip scale is applied in float32 inside the update: equal to a few ulps.
        Assert.That(clipped, Is.EqualTo(reference).Within(1e-6));
    }

    [Test]
    public void Parameters_without_decay_are_not_decayed()
    {
        using var backend = new CpuBackend();
        using var decayed = Floats(backend, [1f], [1]);
        using var kept = Floats(backend, [1f], [1]);
        using var g1 = Floats(backend, [0f], [1]);
        using var g2 = Floats(backend, [0f], [1]);
        NamedParameter[] parameters = [new("w", decayed, g1, WeightDecay: true), new("b", kept, g2, WeightDecay: false)];
        using var optimizer = new AdamWOptimizer(backend, parameters);
        optimizer.Update(learningRate: 0.1, weightDecay: 0.5, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, maxGradientNorm: 1);
        Assert.That((Read(backend, decayed)[0], Read(backend, kept)[0]), Is.EqualTo((0.95f, 1f)));
    }

    private static float[] Run(float[] start, float[][] gradients, double maxNorm, out double[] norms)
    {
        using var backend = new CpuBackend();
        using var value = Floats(backend, start, [start.Length]);
        using var gradient = backend.Allocate(DType.Float32, [start.Length]);
        using var optimizer = new AdamWOptimizer(backend, [new NamedParameter("p", value, gradient, WeightDecay: true)]);
        norms = new double[gradients.Length];
        for (var i = 0; i < gradients.Length; i++)
        {
            backend.Upload<float>(gradient, gradients[i]);
            norms[i] = optimizer.Update(learningRate: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, maxGradientNorm: maxNorm);
        }
        return Read(backend, value);
    }
}
