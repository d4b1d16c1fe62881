using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>BitNet quantisers (both schemes), their straight-through gradients, and the W1.58A8 product.</summary>
public sealed class TernaryTests
{
    [TestCase(1, 1)]
    [TestCase(5, 17)]
    [TestCase(67, 130)]
    public void Reference_scheme_thresholds_rows_at_their_mean_magnitude(int rows, int width)
    {
        var random = TestRandom.Create();
        var w = TestRandom.Floats(random, rows * width);
        var s = TestRandom.Floats(random, rows);
        using var backend = new CpuBackend();
        using var weight = Floats(backend, w, [rows, width]);
        using var scale = Floats(backend, s, [rows, 1]);
        using var effective = backend.Allocate(DType.Float32, [rows, width]);
        backend.TernarizeRows(weight, scale, effective);
        var q = ReferenceRows(w, rows, width);
        var expected = q.Select((v, i) => v * (double)s[i / width]).ToArray();
        Assert.That(Read(backend, effective), Is.EqualTo(expected));

        var ge = TestRandom.Floats(random, rows * width);
        var gw0 = TestRandom.Floats(random, rows * width);
        var gs0 = TestRandom.Floats(random, rows);
        using var effectiveGradient = Floats(backend, ge, [rows, width]);
        using var weightGradient = Floats(backend, gw0, [rows, width]);
        using var scaleGradient = Floats(backend, gs0, [rows, 1]);
        backend.TernarizeRowsBackward(weight, effectiveGradient, scale, weightGradient, scaleGradient);
        // Straight-through: dW = dW_eff * scale (the quantiser counts as identity); d scale = sum dW_eff * q.
        var gw = Read(backend, weightGradient);
        var gs = Read(backend, scaleGradient);
        for (var i = 0; i < w.Length; i++)
            Assert.That(gw[i] - gw0[i], Is.EqualTo(ge[i] * (double)s[i / width]).Within(1e-6));
        for (var r = 0; r < rows; r++)
        {
            var sum = Enumerable.Range(0, width).Sum(i => (double)ge[r * width + i] * q[r * width + i]);
            Assert.That(gs[r] - gs0[r], Is.EqualTo(sum).Within(1e-5 * Math.Sqrt(width)));
        }
    }

    // Overwriting gives the bits of accumulating onto zeros, whatever the gradients held.
    [TestCase(1, 3)]
    [TestCase(19, 33)]
    public void Reference_scheme_backward_overwrite_equals_accumulating_onto_zeros(int rows, int width)
    {
        var random = TestRandom.Create();
        using var backend = new CpuBackend();
        using var weight = Floats(backend, TestRandom.Floats(random, rows * width), [rows, width]);
        using var scale = Floats(backend, TestRandom.Floats(random, rows, 2f), [rows, 1]);
        using var effectiveGradient = Floats(backend, TestRandom.Floats(random, rows * width), [rows, width]);
        using var zerosWeight = Floats(backend, new float[rows * width], [rows, width]);
        using var zerosScale = Floats(backend, new float[rows], [rows, 1]);
        using var staleWeight = Floats(backend, TestRandom.Floats(random, rows * width, 10f), [rows, width]);
        using var staleScale = Floats(backend, TestRandom.Floats(random, rows, 10f), [rows, 1]);
        backend.TernarizeRowsBackward(weight, effectiveGradient, scale, zerosWeight, zerosScale);
        backend.TernarizeRowsBackward(weight, effectiveGradient, scale, staleWeight, staleScale, overwrite: true);
        Assert.That(Read(backend, staleWeight), Is.EqualTo(Read(backend, zerosWeight)));
        Assert.That(Read(backend, staleScale), Is.EqualTo(Read(backend, zerosScale)));
    }

    [TestCase(1, 3)]
    [TestCase(19, 33)]
    public void Paper_scheme_rounds_by_the_tensor_mean_magnitude(int rows, int width)
    {
        var random = TestRandom.Create();
        var w = TestRandom.Floats(random, rows * width);
        using var backend = new CpuBackend();
        using var weight = Floats(backend, w, [rows, width]);
        using var quantized = backend.Allocate(DType.Int8, [rows, width]);
        using var gamma = backend.Allocate(DType.Float32, [1]);
        using var effective = backend.Allocate(DType.Float32, [rows, width]);
        backend.TernarizeTensor(weight, quantized, gamma, effective);
        var meanMagnitude = w.Average(v => Math.Abs((double)v));
        var g = Read(backend, gamma)[0];
        // mean|W| in float32 blocks summed in float64.
        Assert.That(g, Is.EqualTo(meanMagnitude).Within(1e-6));
        var q = new sbyte[w.Length];
        backend.Download<sbyte>(quantized, q);
        var e = Read(backend, effective);
        for (var i = 0; i < w.Length; i++)
        {
            var expected = Math.Clamp(Math.Round(w[i] / (double)g, MidpointRounding.ToEven), -1, 1);
            Assert.That(q[i], Is.EqualTo(expected), $"weight {i} = {w[i]}, gamma {g}");
            Assert.That(e[i], Is.EqualTo(expected * g));
        }
    }

    [TestCase(1, 5, 3)]
    [TestCase(7, 33, 9)]
    [TestCase(40, 130, 67)]
    public void Int8_product_matches_float64_of_dequantised_values(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures, 3f);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var b = TestRandom.Floats(random, outFeatures);
        using var backend = new CpuBackend();
        using var input = Floats(backend, x, [rows, inFeatures]);
        using var xq = backend.Allocate(DType.Int8, [rows, inFeatures]);
        using var rowScale = backend.Allocate(DType.Float32, [rows]);
        using var dequantized = backend.Allocate(DType.Float32, [rows, inFeatures]);
        backend.QuantizeActivations(input, xq, rowScale, dequantized);
        var xs = Read(backend, rowScale);
        var xqHost = new sbyte[x.Length];
        backend.Download<sbyte>(xq, xqHost);
        for (var i = 0; i < x.Length; i++)
        {
            var absMax = x.Skip(i / inFeatures * inFeatures).Take(inFeatures).Max(v => Math.Abs((double)v));
            Assert.That(xs[i / inFeatures], Is.EqualTo(absMax / 127).Within(1e-7 * absMax));
            Assert.That(xqHost[i], Is.EqualTo(Math.Clamp(Math.Round(x[i] * 127 / absMax), -127, 127)).Within(1), $"activation {i}");
        }

        using var weight = Floats(backend, w, [outFeatures, inFeatures]);
        using var wq = backend.Allocate(DType.Int8, [outFeatures, inFeatures]);
        using var gamma = backend.Allocate(DType.Float32, [1]);
        using var effective = backend.Allocate(DType.Float32, [outFeatures, inFeatures]);
        backend.TernarizeTensor(weight, wq, gamma, effective);
        using var bias = Floats(backend, b, [outFeatures]);
        using var output = backend.Allocate(DType.Float32, [rows, outFeatures]);
        backend.TernaryInt8Matmul(xq, rowScale, wq, gamma, bias, output);
        // The integer sum is exact, so the only rounding is the float32 rescale: 1e-6 relative.
        var expected = Reference.Matmul(ToDouble(Read(backend, dequantized)), ToDouble(Read(backend, effective)), ToDouble(b), inFeatures, outFeatures);
        Assert.That(Read(backend, output), Is.EqualTo(expected).Within(1e-5));
    }

    private static double[] ReferenceRows(float[] w, int rows, int width)
    {
        var q = new double[w.Length];
        for (var r = 0; r < rows; r++)
        {
            var alpha = Enumerable.Range(0, width).Average(i => Math.Abs((double)w[r * width + i]));
            for (var i = 0; i < width; i++)
                q[r * width + i] = Math.Abs(w[r * width + i]) > alpha ? Math.Sign(w[r * width + i]) : 0;
        }
        return q;
    }
}
