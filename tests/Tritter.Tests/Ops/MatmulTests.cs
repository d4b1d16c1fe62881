using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Dense matmul forward and backward on the CPU against float64 and finite differences.</summary>
public sealed class MatmulTests
{
    // (rows, in, out): tails off the 8-wide vectors and the 4-row weight blocks, and one large enough to run on both cores.
    private static readonly object[] Shapes = [new[] { 1, 1, 1 }, new[] { 3, 7, 5 }, new[] { 5, 17, 9 }, new[] { 9, 64, 19 }, new[] { 300, 129, 67 }];

    [TestCaseSource(nameof(Shapes))]
    public void Forward_matches_float64_reference(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var b = TestRandom.Floats(random, outFeatures);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [rows, inFeatures]);
        using var weight = Floats(backend, w, [outFeatures, inFeatures]);
        using var bias = Floats(backend, b, [outFeatures]);
        using var output = backend.Allocate(DType.Float32, [rows, outFeatures]);
        backend.Matmul(input, weight, bias, output);
        var expected = Reference.Matmul(ToDouble(x), ToDouble(w), ToDouble(b), inFeatures, outFeatures);
        // float32 dot products of up to 129 terms of magnitude <= 1: rounding error well under 1e-5 per unit of result.
        Assert.That(Read(backend, output), Is.EqualTo(expected).Within(1e-5 * Math.Sqrt(inFeatures)));
    }

    [TestCaseSource(nameof(Shapes))]
    public void Backward_matches_finite_differences(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var b = TestRandom.Floats(random, outFeatures);
        var dy = TestRandom.Floats(random, rows * outFeatures);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [rows, inFeatures]);
        using var weight = Floats(backend, w, [outFeatures, inFeatures]);
        using var outputGradient = Floats(backend, dy, [rows, outFeatures]);
        using var inputGradient = backend.Allocate(DType.Float32, [rows, inFeatures]);
        // Parameter gradients accumulate: start them from a known non-zero value.
        var w0 = TestRandom.Floats(random, w.Length);
        var b0 = TestRandom.Floats(random, b.Length);
        using var weightGradient = Floats(backend, w0, [outFeatures, inFeatures]);
        using var biasGradient = Floats(backend, b0, [outFeatures]);
        backend.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient);
        var dw = Read(backend, weightGradient).Select((v, i) => v - w0[i]).ToArray();
        var db = Read(backend, biasGradient).Select((v, i) => v - b0[i]).ToArray();

        // L = sum dy * (x W^T + b) in float64; it is linear, so h = 1e-3 loses nothing; float32 sums of up to 300 terms
        // stay within 1e-4 relative.
        var (xd, wd, bd) = (ToDouble(x), ToDouble(w), ToDouble(b));
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.Matmul(v, wd, bd, inFeatures, outFeatures), dy), xd, Read(backend, inputGradient), 1e-3, 1e-4, what: "dx");
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.Matmul(xd, v, bd, inFeatures, outFeatures), dy), wd, dw, 1e-3, 1e-4, what: "dW");
        GradientCheck.Assert(v => GradientCheck.Weighted(Reference.Matmul(xd, wd, v, inFeatures, outFeatures), dy), bd, db, 1e-3, 1e-4, what: "db");
    }

    // Overwriting dW gives the bits of accumulating onto zeros, whatever it held.
    [TestCase(5, 7, 3)]
    [TestCase(33, 64, 17)]
    public void Weight_gradient_overwrite_equals_accumulating_onto_zeros(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        using var backend = new CpuBackend();
        using var input = Floats(backend, TestRandom.Floats(random, rows * inFeatures), [rows, inFeatures]);
        using var weight = Floats(backend, TestRandom.Floats(random, outFeatures * inFeatures), [outFeatures, inFeatures]);
        using var outputGradient = Floats(backend, TestRandom.Floats(random, rows * outFeatures), [rows, outFeatures]);
        using var zeros = Floats(backend, new float[outFeatures * inFeatures], [outFeatures, inFeatures]);
        using var stale = Floats(backend, TestRandom.Floats(random, outFeatures * inFeatures, 10f), [outFeatures, inFeatures]);
        backend.MatmulBackward(outputGradient, input, weight, null, zeros, null);
        backend.MatmulBackward(outputGradient, input, weight, null, stale, null, overwriteWeightGradient: true);
        Assert.That(Read(backend, stale), Is.EqualTo(Read(backend, zeros)));
    }

    // A residual added in the forward product gives the bits of adding it afterwards (the unfused sequence).
    [TestCase(5, 7, 3)]
    [TestCase(33, 64, 17)]
    public void Forward_with_a_residual_equals_adding_it_afterwards(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        using var backend = new CpuBackend();
        using var input = Floats(backend, TestRandom.Floats(random, rows * inFeatures), [rows, inFeatures]);
        using var weight = Floats(backend, TestRandom.Floats(random, outFeatures * inFeatures), [outFeatures, inFeatures]);
        using var bias = Floats(backend, TestRandom.Floats(random, outFeatures), [outFeatures]);
        using var residual = Floats(backend, TestRandom.Floats(random, rows * outFeatures, 10f), [rows, outFeatures]);
        using var product = backend.Allocate(DType.Float32, [rows, outFeatures]);
        using var joined = backend.Allocate(DType.Float32, [rows, outFeatures]);
        backend.Matmul(input, weight, bias, product);
        backend.Add(residual, product, product);
        backend.Matmul(input, weight, bias, joined, residual);
        Assert.That(Read(backend, joined), Is.EqualTo(Read(backend, product)));
        using var wrong = backend.Allocate(DType.Float32, [rows, outFeatures + 1]);
        Assert.That(() => backend.Matmul(input, weight, bias, joined, wrong), Throws.ArgumentException.With.Message.Contains("residual"));
    }

    // Adding dX onto a start gives the bits of the overwriting product added to it afterwards (the unfused sequence).
    [TestCase(5, 7, 3)]
    [TestCase(33, 64, 17)]
    public void Input_gradient_accumulation_equals_adding_the_product_afterwards(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        var start = TestRandom.Floats(random, rows * inFeatures, 10f);
        using var backend = new CpuBackend();
        using var input = Floats(backend, TestRandom.Floats(random, rows * inFeatures), [rows, inFeatures]);
        using var weight = Floats(backend, TestRandom.Floats(random, outFeatures * inFeatures), [outFeatures, inFeatures]);
        using var outputGradient = Floats(backend, TestRandom.Floats(random, rows * outFeatures), [rows, outFeatures]);
        using var weightGradient = backend.Allocate(DType.Float32, [outFeatures, inFeatures]);
        using var product = backend.Allocate(DType.Float32, [rows, inFeatures]);
        using var accumulated = Floats(backend, start, [rows, inFeatures]);
        backend.MatmulBackward(outputGradient, input, weight, product, weightGradient, null, overwriteWeightGradient: true);
        backend.MatmulBackward(outputGradient, input, weight, accumulated, weightGradient, null, overwriteWeightGradient: true,
            accumulateInputGradient: true);
        var expected = Read(backend, product).Select((v, i) => start[i] + v).ToArray();
        Assert.That(Read(backend, accumulated), Is.EqualTo(expected));
    }

    [Test]
    public void Operands_convert_to_bf16_by_rounding_to_nearest_even_and_copy_as_float32()
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, 3 * 40, 100f);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [3, 40]);
        using var bf16 = backend.Allocate(DType.BFloat16, [3, 40]);
        using var copy = backend.Allocate(DType.Float32, [3, 40]);
        backend.ConvertOperand(input, bf16);
        backend.ConvertOperand(input, copy);
        var bits = new ushort[x.Length];
        backend.Download<ushort>(bf16, bits);
        // Round to nearest even from the float64 value: the nearer of the two bf16 neighbours (truncation and the next up).
        for (var i = 0; i < x.Length; i++)
        {
            var down = BitConverter.SingleToUInt32Bits(x[i]) >> 16;
            var (low, high) = (BFloat16Bits.ToSingle((ushort)down), BFloat16Bits.ToSingle((ushort)(down + 1)));
            var expected = Math.Abs(x[i] - (double)low) < Math.Abs(high - (double)x[i]) ? low : Math.Abs(x[i] - (double)low) > Math.Abs(high - (double)x[i]) ? high
                : (down & 1) == 0 ? low : high;
            Assert.That(BFloat16Bits.ToSingle(bits[i]), Is.EqualTo(expected), $"element {i}: {x[i]}");
        }
        Assert.That(Read(backend, copy), Is.EqualTo(x));
    }

    [Test]
    public void Mismatched_shapes_are_rejected()
    {
        using var backend = new CpuBackend();
        using var input = backend.Allocate(DType.Float32, [3, 5]);
        using var weight = backend.Allocate(DType.Float32, [4, 6]);
        using var output = backend.Allocate(DType.Float32, [3, 4]);
        Assert.That(() => backend.Matmul(input, weight, null, output), Throws.ArgumentException.With.Message.Contains("rows of 6"));
    }
}
