using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>LayerNorm with weight and bias against float64 and finite differences.</summary>
public sealed class LayerNormTests
{
    private const float Epsilon = 1e-5f;

    [TestCase(1, 2)]
    [TestCase(3, 7)]
    [TestCase(5, 16)]
    [TestCase(13, 67)]
    [TestCase(700, 129)]
    public void Forward_and_backward_match_float64(int rows, int width)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * width, 2f);
        var w = TestRandom.Floats(random, width);
        var b = TestRandom.Floats(random, width);
        var dy = TestRandom.Floats(random, rows * width);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [rows, width]);
        using var weight = Floats(backend, w, [width]);
        using var bias = Floats(backend, b, [width]);
        using var output = backend.Allocate(DType.Float32, [rows, width]);
        using var mean = backend.Allocate(DType.Float32, [rows]);
        using var rstd = backend.Allocate(DType.Float32, [rows]);
        backend.LayerNorm(input, weight, bias, output, mean, rstd, Epsilon);
        var (xd, wd, bd) = (ToDouble(x), ToDouble(w), ToDouble(b));
        // Normalised values are O(1); float32 mean/variance over <= 129 elements keep 1e-5.
        Assert.That(Read(backend, output), Is.EqualTo(Reference.LayerNorm(xd, wd, bd, Epsilon)).Within(1e-5));

        using var outputGradient = Floats(backend, dy, [rows, width]);
        using var inputGradient = backend.Allocate(DType.Float32, [rows, width]);
        using var weightGradient = backend.Allocate(DType.Float32, [width]);
        using var biasGradient = backend.Allocate(DType.Float32, [width]);
        backend.LayerNormBackward(outputGradient, input, weight, mean, rstd, inputGradient, weightGradient, biasGradient);
        // Float64 central differences with h = 1e-4: truncation ~h^2 is 1e-8; float32 backward is good to ~1e-5 relative.
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.LayerNorm(v, wd, bd, Epsilon), dy), xd, Read(backend, inputGradient), 1e-4, 2e-4, what: "dx");
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.LayerNorm(xd, v, bd, Epsilon), dy), wd, Read(backend, weightGradient), 1e-4, 2e-4, what: "dw");
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.LayerNorm(xd, wd, v, Epsilon), dy), bd, Read(backend, biasGradient), 1e-4, 2e-4, what: "db");
    }
}
