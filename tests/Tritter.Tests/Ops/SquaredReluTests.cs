using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Squared ReLU and the gated activation on the CPU against float64, finite differences and the unfused ops.</summary>
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

    [TestCaseSource(nameof(Sizes))]
    public void Gated_forward_matches_float64_and_gradients_match_finite_differences(int n)
    {
        var random = TestRandom.Create();
        var (gate, up, dy) = (TestRandom.Floats(random, n, 3f), TestRandom.Floats(random, n, 2f), TestRandom.Floats(random, n));
        var (y, dGate, dUp) = (new float[n], new float[n], new float[n]);
        SquaredRelu.GateForward(gate, up, y);
        SquaredRelu.GateBackward(gate, up, dy, dGate, dUp);
        const double h = 1e-4;
        for (var i = 0; i < n; i++)
        {
            var r = Math.Max((double)gate[i], 0);
            var expected = r * r * up[i];
            Assert.That(y[i], Is.EqualTo(expected).Within(1e-6 * Math.Max(1, Math.Abs(expected))), $"y[{i}] of {n}");
            if (Math.Abs(gate[i]) < h)
                continue;
            // Central differences of L = dy * relu(gate)^2 * up in float64 along each input; h stays off the kink at 0.
            double F(double g, double u) => Math.Pow(Math.Max(g, 0), 2) * u * dy[i];
            var numericGate = (F(gate[i] + h, up[i]) - F(gate[i] - h, up[i])) / (2 * h);
            var numericUp = (F(gate[i], up[i] + h) - F(gate[i], up[i] - h)) / (2 * h);
            Assert.That(dGate[i], Is.EqualTo(numericGate).Within(1e-4 * Math.Max(1, Math.Abs(numericGate))), $"d gate[{i}] of {n}");
            Assert.That(dUp[i], Is.EqualTo(numericUp).Within(1e-4 * Math.Max(1, Math.Abs(numericUp))), $"d up[{i}] of {n}");
        }
    }

    /// <summary>The fused ops give the bits of the sequence they replace in the model (squared ReLU, products, gradient).</summary>
    [TestCaseSource(nameof(Sizes))]
    public void Gated_ops_equal_the_unfused_sequence(int n)
    {
        var random = TestRandom.Create();
        var (gate, up, dy) = (TestRandom.Floats(random, n, 3f), TestRandom.Floats(random, n, 2f), TestRandom.Floats(random, n));
        using var backend = new CpuBackend();
        var (g, u, d) = (Floats(backend, gate, [n]), Floats(backend, up, [n]), Floats(backend, dy, [n]));
        using var activated = backend.Allocate(DType.Float32, [n]);
        using var unfused = backend.Allocate(DType.Float32, [n]);
        using var fused = backend.Allocate(DType.Float32, [n]);
        backend.SquaredRelu(g, activated);
        backend.Multiply(activated, u, unfused);
        backend.SquaredReluGate(g, u, fused);
        Assert.That(Read(backend, fused), Is.EqualTo(Read(backend, unfused)), "forward");

        using var activatedGradient = backend.Allocate(DType.Float32, [n]);
        using var gateUnfused = backend.Allocate(DType.Float32, [n]);
        using var upUnfused = backend.Allocate(DType.Float32, [n]);
        using var gateFused = backend.Allocate(DType.Float32, [n]);
        using var upFused = backend.Allocate(DType.Float32, [n]);
        backend.Multiply(d, u, activatedGradient);
        backend.Multiply(d, activated, upUnfused);
        backend.SquaredReluBackward(g, activatedGradient, gateUnfused);
        backend.SquaredReluGateBackward(g, u, d, gateFused, upFused);
        Assert.That(Read(backend, gateFused), Is.EqualTo(Read(backend, gateUnfused)), "gate gradient");
        Assert.That(Read(backend, upFused), Is.EqualTo(Read(backend, upUnfused)), "up gradient");
        foreach (var t in new[] { g, u, d })
            t.Dispose();
    }

    [Test]
    public void Mismatched_sizes_are_rejected()
    {
        using var backend = new CpuBackend();
        using var input = backend.Allocate(DType.Float32, [8]);
        using var output = backend.Allocate(DType.Float32, [9]);
        Assert.That(() => backend.SquaredRelu(input, output), Throws.ArgumentException.With.Message.Contains("element count"));
        Assert.That(() => backend.SquaredReluGate(input, input, output), Throws.ArgumentException.With.Message.Contains("element count"));
        Assert.That(() => backend.SquaredReluGateBackward(input, input, input, input, output), Throws.ArgumentException.With.Message.Contains("element count"));
    }
}
