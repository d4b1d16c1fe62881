using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>AdamW and the sum of squares against float64.</summary>
public sealed class AdamWTests
{
    [TestCase(1)]
    [TestCase(77)]
    [TestCase(200_003)]
    public void Three_steps_match_float64_torch_formula(int n)
    {
        var random = TestRandom.Create();
        var p = TestRandom.Floats(random, n);
        var gradients = Enumerable.Range(0, 3).Select(_ => TestRandom.Floats(random, n)).ToArray();
        using var backend = new CpuBackend();
        using var parameter = Floats(backend, p, [n]);
        using var first = Floats(backend, new float[n], [n]);
        using var second = Floats(backend, new float[n], [n]);
        var (pd, m, v) = (ToDouble(p), new double[n], new double[n]);
        const double lr = 1e-2, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1, gs = 0.7;
        for (var step = 1; step <= 3; step++)
        {
            using var gradient = Floats(backend, gradients[step - 1], [n]);
            backend.AdamW(parameter, gradient, first, second, new AdamWSettings((float)lr, (float)b1, (float)b2, (float)eps, (float)wd, step, (float)gs));
            for (var i = 0; i < n; i++)
            {
                var g = gradients[step - 1][i] * gs;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                pd[i] = pd[i] * (1 - lr * wd) - lr * (m[i] / (1 - Math.Pow(b1, step))) / (Math.Sqrt(v[i] / (1 - Math.Pow(b2, step))) + eps);
            }
        }
        // Three float32 updates of size lr = 1e-2: absolute error a few ulps of O(1) parameters.
        Assert.That(Read(backend, parameter), Is.EqualTo(pd).Within(1e-6));
    }

    [TestCase(1)]
    [TestCase(10_007)]
    public void Sum_of_squares_matches_float64(int n)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, n);
        using var backend = new CpuBackend();
        using var tensor = Floats(backend, x, [n]);
        var expected = x.Sum(v => (double)v * v);
        // float32 blocks of 4096 then float64: relative 1e-6.
        Assert.That(backend.SumOfSquares(tensor), Is.EqualTo(expected).Within(1e-6 * expected));
    }
}
