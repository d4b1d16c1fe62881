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
            backend.AdamW([new AdamWParameter(parameter, gradient, first, second, Decays: true)], new AdamWSettings((float)lr, (float)b1, (float)b2, (float)eps, (float)wd, step, (float)gs));
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

    /// <summary>
    /// bfloat16 moments: three steps against float64 AdamW whose moments are rounded to bfloat16 after each step (as the
    /// op stores them). The update divides m by sqrt(v), each carrying up to 2^-9 relative rounding, so a step moves the
    /// parameter within 2e-3 relative of its float64 size: 1e-2 x 3 steps x 2e-3 is below 1e-4.
    /// </summary>
    [TestCase(1)]
    [TestCase(77)]
    [TestCase(100_003)]
    public void Three_steps_with_bfloat16_moments_match_float64_with_rounded_moments(int n)
    {
        var random = TestRandom.Create();
        var p = TestRandom.Floats(random, n);
        var gradients = Enumerable.Range(0, 3).Select(_ => TestRandom.Floats(random, n)).ToArray();
        using var backend = new CpuBackend();
        using var parameter = Floats(backend, p, [n]);
        using var first = backend.Allocate(DType.BFloat16, [n]);
        using var second = backend.Allocate(DType.BFloat16, [n]);
        backend.Upload<ushort>(first, new ushort[n]);
        backend.Upload<ushort>(second, new ushort[n]);
        var (pd, m, v) = (ToDouble(p), new double[n], new double[n]);
        const double lr = 1e-2, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1, gs = 0.7;
        static double Round(double x) => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle((float)x));
        for (var step = 1; step <= 3; step++)
        {
            using var gradient = Floats(backend, gradients[step - 1], [n]);
            backend.AdamW([new AdamWParameter(parameter, gradient, first, second, Decays: true)], new AdamWSettings((float)lr, (float)b1, (float)b2, (float)eps, (float)wd, step, (float)gs));
            for (var i = 0; i < n; i++)
            {
                var g = gradients[step - 1][i] * gs;
                var mi = b1 * m[i] + (1 - b1) * g;
                var vi = b2 * v[i] + (1 - b2) * g * g;
                pd[i] = pd[i] * (1 - lr * wd) - lr * (mi / (1 - Math.Pow(b1, step))) / (Math.Sqrt(vi / (1 - Math.Pow(b2, step))) + eps);
                (m[i], v[i]) = (Round(mi), Round(vi));
            }
        }
        Assert.That(Read(backend, parameter), Is.EqualTo(pd).Within(1e-4));
        var moments = new ushort[n];
        backend.Download<ushort>(first, moments);
        // float32 and float64 may round a moment to neighbouring bfloat16 values, and a difference carries into the next
        // step: at most one bfloat16 step (2^-7 relative) of the larger of the moment and a step's increment, per step.
        for (var i = 0; i < n; i++)
        {
            var increment = gradients.Max(g => Math.Abs((1 - b1) * gs * g[i]));
            Assert.That(BFloat16Bits.ToSingle(moments[i]), Is.EqualTo(m[i]).Within(3 * (Math.Abs(m[i]) + increment) / 128), $"first moment {i}");
        }
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
        Assert.That(backend.SumOfSquares([tensor]), Is.EqualTo(expected).Within(1e-6 * expected));
    }
}
