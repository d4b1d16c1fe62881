using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Cross-entropy and squared error, each fused with its gradient.</summary>
public sealed class LossTests
{
    [TestCase(1, 8)]
    [TestCase(9, 13)]
    [TestCase(300, 517)]
    public void Cross_entropy_matches_float64_and_ignores_padding(int rows, int vocab)
    {
        var random = TestRandom.Create();
        var logits = TestRandom.Floats(random, rows * vocab, 4f);
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(1, vocab)).ToArray();
        if (rows > 1)
            targets[1] = 0;
        const float scale = 0.37f;
        using var backend = new CpuBackend();
        using var x = Floats(backend, logits, [rows, vocab]);
        using var ids = Ints(backend, targets, [rows]);
        using var losses = backend.Allocate(DType.Float32, [rows]);
        using var gradient = backend.Allocate(DType.Float32, [rows, vocab]);
        backend.CrossEntropy(x, ids, losses, gradient, scale);
        var total = Read(backend, losses).Sum(v => (double)v);
        // logsumexp of <= 517 float32 terms: relative 1e-5.
        var expected = Reference.CrossEntropySum(ToDouble(logits), targets, vocab);
        Assert.That(total, Is.EqualTo(expected).Within(1e-5 * Math.Max(1, expected)));
        // Smooth in the logits; h = 1e-3 in float64 leaves truncation ~1e-7, float32 softmax ~1e-6.
        GradientCheck.Assert(v => scale * Reference.CrossEntropySum(v, targets, vocab), ToDouble(logits), Read(backend, gradient), 1e-3, 1e-5);
    }

    [Test]
    public void Squared_error_matches_float64_and_ignores_padding()
    {
        const int rows = 11, width = 9;
        var random = TestRandom.Create();
        var p = TestRandom.Floats(random, rows * width);
        var t = TestRandom.Floats(random, rows * width);
        var ids = Enumerable.Range(0, rows).Select(i => i % 4).ToArray();
        const float scale = 0.5f;
        using var backend = new CpuBackend();
        using var prediction = Floats(backend, p, [rows, width]);
        using var target = Floats(backend, t, [rows, width]);
        using var targetIds = Ints(backend, ids, [rows]);
        using var losses = backend.Allocate(DType.Float32, [rows]);
        using var gradient = backend.Allocate(DType.Float32, [rows, width]);
        using var targetGradient = backend.Allocate(DType.Float32, [rows, width]);
        backend.SquaredError(prediction, target, targetIds, losses, gradient, targetGradient, scale);
        double Loss(double[] v)
        {
            var sum = 0.0;
            for (var i = 0; i < v.Length; i++)
                sum += ids[i / width] == 0 ? 0 : (v[i] - t[i]) * (v[i] - t[i]);
            return sum;
        }
        Assert.That(Read(backend, losses).Sum(v => (double)v), Is.EqualTo(Loss(ToDouble(p))).Within(1e-5));
        // Quadratic: central differences are exact up to rounding.
        GradientCheck.Assert(v => scale * Loss(v), ToDouble(p), Read(backend, gradient), 1e-3, 1e-5, what: "prediction");
        var predictionGradient = Read(backend, gradient);
        Assert.That(Read(backend, targetGradient), Is.EqualTo(predictionGradient.Select(g => -g).ToArray()));
    }
}
