using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ops;

/// <summary>Squared ReLU on the CPU against float64 and finite differences.</summary>
public sealed class SquaredReluTests
{
    // Sizes around the 8-wide vector step and the 64-element chunking, and one large enough to run multi-threaded.
    private static readonly int[] Sizes = [1, 7, 8, 9, 31, 64, 257, 1023, 200_003];

    [TestCaseSource(nameof(Sizes))]
    public void Forward_matches_float64_reference(int n)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, n, 3f);
        using var backend = new CpuBackend();
        using var input = backend.Allocate(DType.Float32, [n]);
        using var output = backend.Allocate(DType.Float32, [n]);
        backend.Upload<float>(input, x);
        backend.SquaredRelu(input, output);
        var y = new float[n];
        backend.Download<float>(output, y);
        for (var i = 0; i < n; i++)
        {
            var expected = Math.Pow(Math.Max((double)x[i], 0), 2);
            Assert.That(y[i], Is.EqualTo(expected).Within(1e-6 * Math.Max(1, expected)), $"element {i} of {n}, x = {x[i]}");
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Backward_matches_finite_differences(int n)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, n, 3f);
        var dy = TestRandom.Floats(random, n);
        var dx = new float[n];
        SquaredRelu.Backward(x, dy, dx);
        const double h = 1e-4;
        for (var i = 0; i < n; i += Math.Max(1, n / 257))
        {
            // Central differences of L = sum(dy * sqrelu(x)) in float64; |x| >= h avoids straddling the kink at 0.
            if (Math.Abs(x[i]) < h)
                continue;
            double F(double v) => Math.Pow(Math.Max(v, 0), 2) * dy[i];
            var numeric = (F(x[i] + h) - F(x[i] - h)) / (2 * h);
            Assert.That(dx[i], Is.EqualTo(numeric).Within(1e-4 * Math.Max(1, Math.Abs(numeric))), $"element {i} of {n}");
        }
    }

    [Test]
    public void Mismatched_sizes_are_rejected()
    {
        using var backend = new CpuBackend();
        using var input = backend.Allocate(DType.Float32, [8]);
        using var output = backend.Allocate(DType.Float32, [9]);
        Assert.That(() => backend.SquaredRelu(input, output), Throws.ArgumentException.With.Message.Contains("element count"));
    }
}
