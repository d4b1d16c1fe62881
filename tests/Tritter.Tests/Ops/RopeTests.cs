using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Rotate-half RoPE against float64 and finite differences.</summary>
public sealed class RopeTests
{
    [TestCase(1, 1, 1, 2, 10000.0)]
    [TestCase(2, 5, 3, 6, 500000.0)]
    [TestCase(3, 67, 4, 16, 500000.0)]
    public void Forward_and_backward_match_float64(int batch, int sequence, int heads, int headDim, double theta)
    {
        var random = TestRandom.Create();
        var count = batch * sequence * heads * headDim;
        var x = TestRandom.Floats(random, count);
        var dy = TestRandom.Floats(random, count);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [batch, sequence, heads, headDim]);
        using var output = backend.Allocate(DType.Float32, [batch, sequence, heads, headDim]);
        backend.Rope(input, output, theta);
        // One rotation of O(1) values with float32 angles rounded once: 1e-6.
        Assert.That(Read(backend, output), Is.EqualTo(Reference.Rope(ToDouble(x), sequence, heads, headDim, theta)).Within(1e-6));

        using var gradient = Floats(backend, dy, [batch, sequence, heads, headDim]);
        backend.RopeBackward(gradient, gradient, theta);
        // Linear in x: finite differences are exact up to rounding; 1e-5 covers float32.
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.Rope(v, sequence, heads, headDim, theta), dy), ToDouble(x), Read(backend, gradient), 1e-3, 1e-5);
    }

    [TestCase(1, 3, 8, 1L)]
    [TestCase(5, 2, 32, 131_071L)]
    public void From_a_first_position_matches_float64_at_those_positions(int sequence, int heads, int headDim, long firstPosition)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, sequence * heads * headDim);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [1, sequence, heads, headDim]);
        using var output = backend.Allocate(DType.Float32, [1, sequence, heads, headDim]);
        backend.Rope(input, output, 500_000.0, firstPosition);
        // The angles are formed in float64 at any position and rounded once, so 1e-6 holds as at position 0.
        Assert.That(Read(backend, output), Is.EqualTo(Reference.Rope(ToDouble(x), sequence, heads, headDim, 500_000.0, firstPosition)).Within(1e-6));
        Assert.That(() => backend.Rope(input, output, 500_000.0, -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
