using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Tests.Support;
using Tritter.Tests.Ternary;

namespace Tritter.Tests.GpuOps;

/// <summary>
/// The CUDA quantisers, int8 products (int8 and packed weights; int8 also on wgmma where the device has it) and packed
/// ternary matmul against the CPU backend. Every step whose inputs agree
/// is held to the same bits (the kernels spell out each rounding, and rintf rounds half to even as MathF.Round does);
/// only the threshold and gamma, sums taken in another order, may differ by rounding, and so may the elements that sit
/// on the quantisation boundary those move.
/// </summary>
public sealed class TernaryTrainingGpuTests : GpuFixture
{
    private static readonly object[] RowShapes =
    [
        new object[] { 1, 1 }, new object[] { 3, 7 }, new object[] { 37, 1023 }, new object[] { 130, 4097 }, new object[] { 5, 1028 },
        new object[] { 70, 2048 },
    ];

    private static readonly int[] TensorSizes = [1, 7, 4097, 300_001];

    private static readonly object[] MatmulShapes =
    [
        new object[] { 1, 1, 1 }, new object[] { 3, 7, 5 }, new object[] { 65, 33, 130 }, new object[] { 17, 64, 7 },
        new object[] { 130, 1000, 67 }, new object[] { 64, 4096, 64 }, new object[] { 300, 1000, 520 }, new object[] { 257, 2560, 700 },
    ];

    private static readonly object[] PackedShapes =
    [
        new object[] { 1, 1, 1 }, new object[] { 3, 63, 7 }, new object[] { 17, 65, 130 }, new object[] { 40, 300, 33 },
        new object[] { 2, 30_000, 9 },
    ];

    // Sums of up to 4097 float32 terms in two orders differ by a few ulps of the summed magnitude; 1e-5 of it bounds
    // that with a wide margin and still catches a wrong or missing term.
    private const double SumRelative = 1e-5;

    [TestCaseSource(nameof(RowShapes))]
    public void TernarizeRows_matches_cpu(int rows, int width)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, rows * width);
        var scale = TestRandom.Floats(random, rows, 2f);
        var expected = TernarizeRows(cpu, weight, scale, rows, width);
        var actual = TernarizeRows(Gpu, weight, scale, rows, width);
        GpuCompare.BitEqual(actual, TernarizeRows(Gpu, weight, scale, rows, width), "effective");
        for (var r = 0; r < rows; r++)
        {
            var alpha = MeanMagnitude(weight.AsSpan(r * width, width));
            for (var i = r * width; i < (r + 1) * width; i++)
            {
                if (OnBoundary(Math.Abs(weight[i]), alpha))
                    Assert.That(actual[i], Is.EqualTo(0f).Or.EqualTo(expected[i]), $"effective[{i}] on the threshold");
                else if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                    Assert.Fail($"effective[{i}]: GPU {actual[i]:R}, CPU {expected[i]:R}");
            }
        }
    }

    [TestCaseSource(nameof(RowShapes))]
    public void TernarizeRows_into_bf16_rounds_the_float32_result(int rows, int width)
    {
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, rows * width);
        var scale = TestRandom.Floats(random, rows, 2f);
        var single = TernarizeRows(Gpu, weight, scale, rows, width);
        using var w = HostTensors.Floats(Gpu, weight, [rows, width]);
        using var s = HostTensors.Floats(Gpu, scale, [rows]);
        using var e = Gpu.Allocate(DType.BFloat16, [rows, width]);
        Gpu.TernarizeRows(w, s, e);
        var actual = new ushort[rows * width];
        Gpu.Download<ushort>(e, actual);
        for (var i = 0; i < actual.Length; i++)
            if (actual[i] != BFloat16Bits.FromSingle(single[i]))
                Assert.Fail($"effective[{i}]: bf16 {actual[i]:X4}, float32 {single[i]:R} rounds to {BFloat16Bits.FromSingle(single[i]):X4}");
    }

    [Test]
    public void TernarizeRows_excludes_weights_equal_to_the_threshold()
    {
        using var cpu = new CpuBackend();
        // mean|w| = 1 exactly in every row, so |w| = 1 sits on the threshold and must quantise to 0 (the test is |w| > alpha).
        float[] weight = [0.5f, -1.5f, 1f, -1f, 2f, -1f, 0f, 1f];
        float[] scale = [3f, -0.25f];
        var actual = TernarizeRows(Gpu, weight, scale, 2, 4);
        Assert.That(actual, Is.EqualTo(new[] { 0f, -3f, 0f, 0f, -0.25f, 0f, 0f, 0f }));
        Assert.That(actual, Is.EqualTo(TernarizeRows(cpu, weight, scale, 2, 4)));
    }

    [TestCaseSource(nameof(RowShapes))]
    public void TernarizeRowsBackward_matches_cpu(int rows, int width)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, rows * width);
        var effectiveGradient = TestRandom.Floats(random, rows * width);
        var scale = TestRandom.Floats(random, rows, 2f);
        var weightGradient = TestRandom.Floats(random, rows * width);
        var scaleGradient = TestRandom.Floats(random, rows);
        var (expectedWeight, expectedScale) = Backward(cpu, weight, effectiveGradient, scale, weightGradient, scaleGradient, rows, width);
        var (actualWeight, actualScale) = Backward(Gpu, weight, effectiveGradient, scale, weightGradient, scaleGradient, rows, width);
        var (againWeight, againScale) = Backward(Gpu, weight, effectiveGradient, scale, weightGradient, scaleGradient, rows, width);
        GpuCompare.Ulps(expectedWeight, actualWeight, 0, "weight gradient");
        GpuCompare.Close(expectedScale, actualScale, SumRelative,
            r => Math.Abs(scaleGradient[r]) + effectiveGradient.Skip(r * width).Take(width).Sum(v => Math.Abs((double)v)), "scale gradient");
        GpuCompare.BitEqual(actualWeight, againWeight, "weight gradient");
        GpuCompare.BitEqual(actualScale, againScale, "scale gradient");
    }

    // Overwriting (the first contribution of a step) gives the bits of accumulating onto zeros, whatever the gradients held.
    [TestCaseSource(nameof(RowShapes))]
    public void TernarizeRowsBackward_overwrite_equals_accumulating_onto_zeros(int rows, int width)
    {
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, rows * width);
        var effectiveGradient = TestRandom.Floats(random, rows * width);
        var scale = TestRandom.Floats(random, rows, 2f);
        var (zerosWeight, zerosScale) = Backward(Gpu, weight, effectiveGradient, scale, new float[rows * width], new float[rows], rows, width);
        var (setWeight, setScale) = Backward(Gpu, weight, effectiveGradient, scale, TestRandom.Floats(random, rows * width, 10f),
            TestRandom.Floats(random, rows, 10f), rows, width, overwrite: true);
        GpuCompare.BitEqual(zerosWeight, setWeight, "weight gradient");
        GpuCompare.BitEqual(zerosScale, setScale, "scale gradient");
    }

    [TestCaseSource(nameof(TensorSizes))]
    public void TernarizeTensor_matches_cpu(int count)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, count, 3f);
        var expected = TernarizeTensor(cpu, weight);
        var actual = TernarizeTensor(Gpu, weight);
        var again = TernarizeTensor(Gpu, weight);
        GpuCompare.Close([expected.Gamma], [actual.Gamma], SumRelative, 0, "gamma");
        Assert.That(again.Gamma, Is.EqualTo(actual.Gamma), "gamma (run twice)");
        // Given its own gamma, the GPU must quantise every element exactly as the CPU's formula does.
        var inverse = 1f / actual.Gamma;
        for (var i = 0; i < count; i++)
        {
            var q = (sbyte)Math.Clamp(MathF.Round(weight[i] * inverse), -1f, 1f);
            if (actual.Quantized[i] != q || BitConverter.SingleToInt32Bits(actual.Effective[i]) != BitConverter.SingleToInt32Bits(q * actual.Gamma))
                Assert.Fail($"element {i} of {count}: w {weight[i]:R}, gamma {actual.Gamma:R}: GPU q {actual.Quantized[i]} effective {actual.Effective[i]:R}, expected q {q}");
            if (!OnBoundary(Math.Abs(weight[i]), 0.5 * expected.Gamma) && !OnBoundary(Math.Abs(weight[i]), 1.5 * expected.Gamma))
                Assert.That(actual.Quantized[i], Is.EqualTo(expected.Quantized[i]), $"q[{i}] against the CPU");
        }
    }

    [Test]
    public void TernarizeTensor_rounds_ties_to_even_as_the_cpu()
    {
        using var cpu = new CpuBackend();
        // mean|W| = 1/8 exactly, and W / gamma hits +-0.5, +-1.5, +-2.5: half to even gives 0, +-2 (clamped to +-1), +-2.
        float[] pattern = [0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0f, 0f, 0.5f, -0.5f, 1f, -1f];
        var weight = Enumerable.Repeat(pattern, 3).SelectMany(p => p).Select(v => v / 8f).ToArray();
        var actual = TernarizeTensor(Gpu, weight);
        var expected = TernarizeTensor(cpu, weight);
        Assert.That(actual.Gamma, Is.EqualTo(0.125f));
        sbyte[] rounded = [0, 0, 1, -1, 1, -1, 0, 0, 0, 0, 1, -1];
        Assert.That(actual.Quantized, Is.EqualTo(Enumerable.Repeat(rounded, 3).SelectMany(p => p).ToArray()));
        Assert.That(actual.Quantized, Is.EqualTo(expected.Quantized));
        Assert.That(actual.Effective, Is.EqualTo(expected.Effective));
    }

    [TestCaseSource(nameof(RowShapes))]
    public void QuantizeActivations_match_cpu_bit_for_bit(int rows, int width)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var input = TestRandom.Floats(random, rows * width, 4f);
        Array.Clear(input, 0, width); // an all-zero row: the absmax floor of 1e-5
        var expected = Quantize(cpu, input, rows);
        var actual = Quantize(Gpu, input, rows);
        Assert.That(actual.Quantized, Is.EqualTo(expected.Quantized), "quantized");
        GpuCompare.Ulps(expected.RowScale, actual.RowScale, 0, "row scale");
        GpuCompare.Ulps(expected.Dequantized, actual.Dequantized, 0, "dequantized");
    }

    [Test]
    public void QuantizeActivations_round_ties_to_even_as_the_cpu()
    {
        using var cpu = new CpuBackend();
        // absmax 127 makes x * 127 / absmax = x exactly, so the halves are ties.
        float[] input = [127f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f];
        var actual = Quantize(Gpu, input, 1);
        Assert.That(actual.Quantized, Is.EqualTo(new sbyte[] { 127, 0, 2, 2, 0, -2, -2, 126, -126, 4 }));
        Assert.That(actual.Quantized, Is.EqualTo(Quantize(cpu, input, 1).Quantized));
        Assert.That(actual.RowScale, Is.EqualTo(new[] { 1f }));
    }

    [TestCaseSource(nameof(MatmulShapes))]
    public void TernaryInt8Matmul_matches_cpu_bit_for_bit(int rows, int inFeatures, int outFeatures) =>
        TernaryInt8MatmulMatchesCpu(rows, inFeatures, outFeatures);

    [TestCaseSource(nameof(MatmulShapes))]
    public void TernaryInt8Matmul_on_wgmma_matches_cpu_bit_for_bit(int rows, int inFeatures, int outFeatures)
    {
        if (!Gpu.WgmmaAvailable)
            Assert.Ignore($"{Gpu.Name} has no wgmma (compute capability 9.0 only)");
        Gpu.UseWgmma = true;
        try
        {
            TernaryInt8MatmulMatchesCpu(rows, inFeatures, outFeatures);
        }
        finally
        {
            Gpu.UseWgmma = false;
        }
    }

    private void TernaryInt8MatmulMatchesCpu(int rows, int inFeatures, int outFeatures)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var x = Enumerable.Range(0, rows * inFeatures).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var q = Enumerable.Range(0, outFeatures * inFeatures).Select(_ => (sbyte)random.Next(-1, 2)).ToArray();
        x[0] = 127; // one full-scale product, so the largest sums are exercised
        var rowScale = TestRandom.Floats(random, rows).Select(v => Math.Abs(v) / 127f + 1e-6f).ToArray();
        var gamma = (float)random.NextDouble() + 0.01f;
        var bias = TestRandom.Floats(random, outFeatures);
        foreach (var withBias in new[] { true, false })
        {
            var expected = Int8Matmul(cpu, x, rowScale, q, gamma, withBias ? bias : null, rows, inFeatures, outFeatures);
            var actual = Int8Matmul(Gpu, x, rowScale, q, gamma, withBias ? bias : null, rows, inFeatures, outFeatures);
            GpuCompare.Ulps(expected, actual, 0, withBias ? "output with bias" : "output");
        }
    }

    [TestCaseSource(nameof(MatmulShapes))]
    public void PackedTernaryInt8Matmul_matches_cpu_bit_for_bit(int rows, int columns, int outputs)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var x = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var (_, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
        x[0] = -127;
        var rowScale = TestRandom.Floats(random, rows).Select(v => Math.Abs(v) / 127f + 1e-6f).ToArray();
        var bias = TestRandom.Floats(random, outputs);
        foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.01f] })
        {
            foreach (var withBias in new[] { true, false })
            {
                var expected = PackedTernaryRuns.Int8Matmul(cpu, x, rowScale, words, scale, withBias ? bias : null, rows, columns, outputs);
                var actual = PackedTernaryRuns.Int8Matmul(Gpu, x, rowScale, words, scale, withBias ? bias : null, rows, columns, outputs);
                GpuCompare.Ulps(expected, actual, 0, $"output, {(scale.Length == 1 ? "per-tensor" : "per-row")} scale{(withBias ? ", bias" : "")}");
            }
        }
    }

    // Generation arranges its fixed weights once (ArrangePackedTernary) and multiplies them with ArrangedTernaryMatmul:
    // the same conversion and the same GEMV as PackedTernaryMatmul per call, so the same bits.
    [TestCaseSource(nameof(PackedShapes))]
    public void ArrangedTernaryMatmul_gives_the_bits_of_PackedTernaryMatmul(int rows, int columns, int outputs)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * columns);
        var q = Enumerable.Range(0, outputs * columns).Select(_ => (sbyte)random.Next(-1, 2)).ToArray();
        var words = new uint[outputs * TernaryPacking.WordsPerRow(columns)];
        TernaryPacking.Pack(q, outputs, columns, words);
        var bias = TestRandom.Floats(random, outputs);
        foreach (var scheme in new[] { TernaryScheme.Reference, TernaryScheme.Paper })
        {
            foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.1f] })
            {
                var expected = PackedMatmul(Gpu, x, words, scale, bias, scheme, rows, columns, outputs);
                var actual = PackedMatmul(Gpu, x, words, scale, bias, scheme, rows, columns, outputs, arranged: true);
                GpuCompare.Ulps(expected, actual, 0, $"{scheme}, {scale.Length} scale(s)");
            }
        }
    }

    [TestCaseSource(nameof(PackedShapes))]
    public void PackedTernaryMatmul_matches_cpu(int rows, int columns, int outputs)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * columns);
        var (_, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
        var bias = TestRandom.Floats(random, outputs);
        var rowMagnitude = Enumerable.Range(0, rows).Select(r => x.Skip(r * columns).Take(columns).Sum(v => Math.Abs((double)v))).ToArray();
        foreach (var scheme in new[] { TernaryScheme.Reference, TernaryScheme.Paper })
        {
            foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.1f] })
            {
                foreach (var withBias in new[] { true, false })
                {
                    var what = $"{scheme}, {(scale.Length == 1 ? "per-tensor" : "per-row")} scale{(withBias ? ", bias" : "")}";
                    var b = withBias ? bias : null;
                    var expected = PackedMatmul(cpu, x, words, scale, b, scheme, rows, columns, outputs);
                    var actual = PackedMatmul(Gpu, x, words, scale, b, scheme, rows, columns, outputs);
                    // The float path adds the products in another order; the int8 path's sums are exact but the final
                    // scaling is ordered differently. Both are held to 1e-5 of the terms' magnitude, scale * sum|x|.
                    GpuCompare.Close(expected, actual, SumRelative,
                        i => Math.Abs(scale[scale.Length == 1 ? 0 : i % outputs]) * rowMagnitude[i / outputs], what);
                }
            }
        }
    }

    [TestCaseSource(nameof(RowShapes))]
    public void PackTernaryRows_matches_cpu(int rows, int width)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var weight = TestRandom.Floats(random, rows * width);
        var expected = PackRows(cpu, weight, rows, width);
        var actual = PackRows(Gpu, weight, rows, width);
        for (var r = 0; r < rows; r++)
        {
            var alpha = MeanMagnitude(weight.AsSpan(r * width, width));
            for (var i = r * width; i < (r + 1) * width; i++)
            {
                if (actual[i] != expected[i] && !(OnBoundary(Math.Abs(weight[i]), alpha) && actual[i] == 0))
                    Assert.Fail($"code [{i}]: GPU {actual[i]}, CPU {expected[i]} (w {weight[i]:R}, mean|w| {alpha:R})");
            }
        }
    }

    [TestCaseSource(nameof(PackedShapes))]
    public void PackedTernaryMatmulBackward_matches_cpu_bit_for_bit(int rows, int columns, int outputs)
    {
        using var cpu = new CpuBackend();
        var random = TestRandom.Create();
        var (_, words) = PackedTernaryRuns.RandomCodes(random, outputs, columns);
        var dy = TestRandom.Floats(random, rows * outputs);
        foreach (var scale in new[] { TestRandom.Floats(random, outputs, 2f), [(float)random.NextDouble() + 0.1f] })
        {
            var expected = PackedTernaryRuns.InputGradient(cpu, dy, words, scale, rows, columns, outputs);
            var actual = PackedTernaryRuns.InputGradient(Gpu, dy, words, scale, rows, columns, outputs);
            GpuCompare.Ulps(expected, actual, 0, scale.Length == 1 ? "input gradient, per-tensor scale" : "input gradient");
        }
    }

    private static bool OnBoundary(double value, double boundary) => Math.Abs(value - boundary) <= 1e-5 * boundary;

    private static double MeanMagnitude(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values)
            sum += Math.Abs(v);
        return sum / values.Length;
    }

    private static float[] TernarizeRows<TBackend>(TBackend backend, float[] weight, float[] scale, int rows, int width)
        where TBackend : ITensorStore, ITernaryOps
    {
        using var w = HostTensors.Floats(backend, weight, [rows, width]);
        using var s = HostTensors.Floats(backend, scale, [rows]);
        using var e = backend.Allocate(DType.Float32, [rows, width]);
        backend.TernarizeRows(w, s, e);
        return HostTensors.Read(backend, e);
    }

    private static (float[] Weight, float[] Scale) Backward<TBackend>(TBackend backend, float[] weight, float[] effectiveGradient, float[] scale,
        float[] weightGradient, float[] scaleGradient, int rows, int width, bool overwrite = false)
        where TBackend : ITensorStore, ITernaryOps
    {
        using var w = HostTensors.Floats(backend, weight, [rows, width]);
        using var ge = HostTensors.Floats(backend, effectiveGradient, [rows, width]);
        using var s = HostTensors.Floats(backend, scale, [rows]);
        using var gw = HostTensors.Floats(backend, weightGradient, [rows, width]);
        using var gs = HostTensors.Floats(backend, scaleGradient, [rows]);
        backend.TernarizeRowsBackward(w, ge, s, gw, gs, overwrite);
        return (HostTensors.Read(backend, gw), HostTensors.Read(backend, gs));
    }

    private sealed record Ternarized(sbyte[] Quantized, float Gamma, float[] Effective);

    private static Ternarized TernarizeTensor<TBackend>(TBackend backend, float[] weight)
        where TBackend : ITensorStore, ITernaryOps
    {
        using var w = HostTensors.Floats(backend, weight, [weight.Length]);
        using var q = backend.Allocate(DType.Int8, [weight.Length]);
        using var g = backend.Allocate(DType.Float32, [1]);
        using var e = backend.Allocate(DType.Float32, [weight.Length]);
        backend.TernarizeTensor(w, q, g, e);
        var quantized = new sbyte[weight.Length];
        backend.Download<sbyte>(q, quantized);
        return new Ternarized(quantized, HostTensors.Read(backend, g)[0], HostTensors.Read(backend, e));
    }

    private sealed record Activations(sbyte[] Quantized, float[] RowScale, float[] Dequantized);

    private static Activations Quantize<TBackend>(TBackend backend, float[] input, int rows)
        where TBackend : ITensorStore, ITernaryOps
    {
        using var x = HostTensors.Floats(backend, input, [input.Length]);
        using var q = backend.Allocate(DType.Int8, [input.Length]);
        using var s = backend.Allocate(DType.Float32, [rows]);
        using var d = backend.Allocate(DType.Float32, [input.Length]);
        backend.QuantizeActivations(x, q, s, d);
        var quantized = new sbyte[input.Length];
        backend.Download<sbyte>(q, quantized);
        return new Activations(quantized, HostTensors.Read(backend, s), HostTensors.Read(backend, d));
    }

    private static float[] Int8Matmul<TBackend>(TBackend backend, sbyte[] x, float[] rowScale, sbyte[] q, float gamma, float[]? bias,
        int rows, int inFeatures, int outFeatures)
        where TBackend : ITensorStore, ITernaryOps
    {
        using var xt = backend.Allocate(DType.Int8, [rows, inFeatures]);
        using var qt = backend.Allocate(DType.Int8, [outFeatures, inFeatures]);
        backend.Upload<sbyte>(xt, x);
        backend.Upload<sbyte>(qt, q);
        using var s = HostTensors.Floats(backend, rowScale, [rows]);
        using var g = HostTensors.Floats(backend, [gamma], [1]);
        using var b = bias is null ? null : HostTensors.Floats(backend, bias, [outFeatures]);
        using var y = backend.Allocate(DType.Float32, [rows, outFeatures]);
        backend.TernaryInt8Matmul(xt, s, qt, g, b, y);
        return HostTensors.Read(backend, y);
    }

    private static float[] PackedMatmul<TBackend>(TBackend backend, float[] x, uint[] words, float[] scale, float[]? bias, TernaryScheme scheme,
        int rows, int columns, int outputs, bool arranged = false)
        where TBackend : ITensorStore, IPackedTernaryOps
    {
        using var xt = HostTensors.Floats(backend, x, [rows, columns]);
        var layout = (uint[])words.Clone();
        if (arranged)
            backend.ArrangePackedTernary(layout, outputs, columns, scheme);
        using var packed = PackedTernaryRuns.Packed(backend, layout, outputs, columns);
        using var s = HostTensors.Floats(backend, scale, [scale.Length]);
        using var b = bias is null ? null : HostTensors.Floats(backend, bias, [outputs]);
        using var y = backend.Allocate(DType.Float32, [rows, outputs]);
        if (arranged)
            backend.ArrangedTernaryMatmul(xt, packed, s, b, scheme, y);
        else
            backend.PackedTernaryMatmul(xt, packed, s, b, scheme, y);
        return HostTensors.Read(backend, y);
    }

    private static sbyte[] PackRows<TBackend>(TBackend backend, float[] weight, int rows, int width)
        where TBackend : ITensorStore, IPackedTernaryTrainingOps
    {
        using var w = HostTensors.Floats(backend, weight, [rows, width]);
        using var packed = backend.Allocate(DType.UInt8, [rows, TernaryPacking.PaddedColumns(width) / 4]);
        backend.PackTernaryRows(w, packed);
        var bytes = new byte[packed.ElementCount];
        backend.Download<byte>(packed, bytes);
        var codes = new sbyte[rows * width];
        TernaryPacking.Unpack(MemoryMarshal.Cast<byte, uint>(bytes), rows, width, codes);
        return codes;
    }
}
