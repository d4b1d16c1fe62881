using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Tests.Ops;
using Tritter.Tests.Support;
using static Tritter.Tests.Ops.DecodeFusedRuns;

namespace Tritter.Tests.GpuOps;

/// <summary>
/// The fused decode kernels (<c>kernels/decode_fused.cu</c>) against the CPU's fused ops, and against the unfused kernels
/// on the GPU, whose float32 operations they share: bit-equal to the latter, so a decode step's results do not move.
/// </summary>
public sealed class DecodeFusedGpuTests : GpuFixture
{
    // QK-Norm sums a row in another order on each side (warp lanes against vector lanes): as the LayerNorm GPU tests,
    // a few float32 ulps, far below 1e-5 of the RMS magnitude; RoPE then only rotates pairs with equal angle tables.
    private const double Relative = 1e-5;

    [TestCaseSource(typeof(DecodeFusedTests), nameof(DecodeFusedTests.AttentionShapes))]
    public void Attention_inputs_match_cpu_and_the_unfused_kernels(int tokens, int heads, int kvHeads, int headDim)
    {
        var c = AttentionCase.Random(TestRandom.Create(), tokens, heads, kvHeads, headDim);
        using var cpu = new CpuBackend();
        var expected = AttentionInputs(cpu, c, fused: true);
        var actual = AttentionInputs(Gpu, c, fused: true);
        var unfused = AttentionInputs(Gpu, c, fused: false);
        GpuCompare.Ulps(unfused.Query, actual.Query, 0, "queries against the unfused kernels");
        Assert.Multiple(() =>
        {
            Assert.That(actual.KeyData, Is.EqualTo(unfused.KeyData), "key nibbles against the unfused kernels");
            Assert.That(actual.KeyScales, Is.EqualTo(unfused.KeyScales), "key scales against the unfused kernels");
            Assert.That(actual.ValueData, Is.EqualTo(unfused.ValueData), "value nibbles against the unfused kernels");
            Assert.That(actual.ValueScales, Is.EqualTo(unfused.ValueScales), "value scales against the unfused kernels");
            // Values are quantised as they come, with the CPU's float32 operations: equal bytes.
            Assert.That(actual.ValueData, Is.EqualTo(expected.ValueData), "value nibbles against the CPU");
            Assert.That(actual.ValueScales, Is.EqualTo(expected.ValueScales), "value scales against the CPU");
        });
        GpuCompare.Close(expected.Query, actual.Query, Relative, GpuCompare.Rms(expected.Query), "queries against the CPU");
        // Keys pass QK-Norm first, so a nibble may round the other way: within one INT4 step of the CPU's key.
        var (gpuKeys, cpuKeys) = (Dequantize(actual.KeyData, actual.KeyScales, headDim), Dequantize(expected.KeyData, expected.KeyScales, headDim));
        for (var i = 0; i < cpuKeys.Length; i++)
        {
            var step = (double)expected.KeyScales[i / 32] * 1.01 + 1e-6;
            Assert.That(gpuKeys[i], Is.EqualTo(cpuKeys[i]).Within(step), $"key value {i}");
        }
    }

    [TestCase(1, 7)]
    [TestCase(1, 11008)]
    [TestCase(3, 1027)]
    public void Gated_squared_relu_matches_cpu_bit_for_bit(int tokens, int inter)
    {
        var gateUp = TestRandom.Floats(TestRandom.Create(), tokens * 2 * inter, 3f);
        using var cpu = new CpuBackend();
        var expected = GatedSquaredRelu(cpu, gateUp, tokens, inter, fused: true);
        GpuCompare.Ulps(expected, GatedSquaredRelu(Gpu, gateUp, tokens, inter, fused: true), 0, "fused");
        GpuCompare.Ulps(GatedSquaredRelu(Gpu, gateUp, tokens, inter, fused: false), GatedSquaredRelu(Gpu, gateUp, tokens, inter, fused: true), 0,
            "against the unfused kernels");
    }

    [TestCase(1, 128)]
    [TestCase(1, 4096)]
    [TestCase(5, 1000)]
    [TestCase(3, 1030)]
    [TestCase(2, 8192)]
    public void Add_layer_norm_matches_cpu_and_the_unfused_kernels(int rows, int width)
    {
        var random = TestRandom.Create();
        var (a, b) = (TestRandom.Floats(random, rows * width, 2f), TestRandom.Floats(random, rows * width));
        var (weight, bias) = (TestRandom.Floats(random, width), TestRandom.Floats(random, width));
        using var cpu = new CpuBackend();
        var expected = AddLayerNorm(cpu, a, b, weight, bias, fused: true);
        var actual = AddLayerNorm(Gpu, a, b, weight, bias, fused: true);
        GpuCompare.Close(expected, actual, Relative, GpuCompare.Rms(expected), "fused");
        GpuCompare.Ulps(AddLayerNorm(Gpu, a, b, weight, bias, fused: false), actual, 0, "against the unfused kernels");
    }

    [TestCase(1, 4096)]
    [TestCase(3, 1030)]
    [TestCase(2, 100)]
    public void Add_layer_norm_then_norm_matches_cpu_and_the_unfused_kernels(int rows, int width)
    {
        var random = TestRandom.Create();
        var (a, b) = (TestRandom.Floats(random, rows * width, 2f), TestRandom.Floats(random, rows * width));
        var (weight, bias, nextWeight, nextBias) = (TestRandom.Floats(random, width), TestRandom.Floats(random, width), TestRandom.Floats(random, width),
            TestRandom.Floats(random, width));
        using var cpu = new CpuBackend();
        var expected = AddLayerNormThenNorm(cpu, a, b, weight, bias, nextWeight, nextBias, fused: true);
        var actual = AddLayerNormThenNorm(Gpu, a, b, weight, bias, nextWeight, nextBias, fused: true);
        var unfused = AddLayerNormThenNorm(Gpu, a, b, weight, bias, nextWeight, nextBias, fused: false);
        GpuCompare.Ulps(unfused.Output, actual.Output, 0, "post norm against the unfused kernels");
        GpuCompare.Ulps(unfused.Next, actual.Next, 0, "next norm against the unfused kernels");
        GpuCompare.Close(expected.Output, actual.Output, Relative, GpuCompare.Rms(expected.Output), "post norm against the CPU");
        // The next norm's input differs from the CPU's by the post norm's few ulps: a few more here.
        GpuCompare.Close(expected.Next, actual.Next, 4 * Relative, GpuCompare.Rms(expected.Next), "next norm against the CPU");
    }

    // Batch 1 runs the batch-1 kernels' epilogues: the 7B output product with its residual and the 7B gate|up product
    // (int8 in the paper scheme: 3 blocks per SM), N off the kernels' 8- and 16-row groups, a K past the float32
    // kernel's shared memory (the unfused fallback there); batches of 2-5 run the product, then the unfused kernel.
    private static readonly object[] FusedTernaryCases =
    [
        new object[] { Epilogue.Residual, 1, 4096, 4096 },
        new object[] { Epilogue.Gated, 1, 22016, 4096 },
        new object[] { Epilogue.Residual, 1, 100, 1000 },
        new object[] { Epilogue.Gated, 1, 34, 1027 },
        new object[] { Epilogue.Gated, 1, 8, 40_000 },
        new object[] { Epilogue.Residual, 3, 100, 4096 },
        new object[] { Epilogue.Gated, 5, 50, 300 },
    ];

    [TestCaseSource(nameof(FusedTernaryCases))]
    public void Fused_ternary_products_match_cpu_and_the_unfused_kernels(Epilogue kind, int rows, int outputs, int columns)
    {
        foreach (var scheme in new[] { TernaryScheme.Reference, TernaryScheme.Paper })
        {
            var c = TernaryCase.Random(TestRandom.Create(), kind, scheme, rows, outputs, columns);
            using var cpu = new CpuBackend();
            var expected = FusedTernary(cpu, c, fused: true);
            var actual = FusedTernary(Gpu, c, fused: true);
            GpuCompare.Ulps(FusedTernary(Gpu, c, fused: false), actual, 0, $"{scheme}: against the unfused kernels");
            Within(expected, actual, Bounds(c, FusedTernary(cpu, c, fused: false, productOnly: true)), $"{scheme}: against the CPU");
        }
    }

    /// <summary>
    /// Per output: the product's float32 sums of K terms in another order, a few ulps of the sum of magnitudes (as the
    /// GEMV tests); with a residual, an ulp of it more; gated, that bound carried through <c>sqrelu(g) u</c>.
    /// </summary>
    private static double[] Bounds(TernaryCase c, float[] product)
    {
        double Product(int m, int n)
        {
            var magnitude = 0.0;
            for (var k = 0; k < c.Columns; k++)
                magnitude += Math.Abs(c.Input[m * c.Columns + k]);
            return 3e-6 * magnitude * Math.Abs(c.Scales[n]) + 1e-6 * Math.Abs(product[m * c.Outputs + n]) + 1e-6;
        }
        if (c.Kind == Epilogue.Residual)
            return Enumerable.Range(0, c.Rows * c.Outputs)
                .Select(i => Product(i / c.Outputs, i % c.Outputs) + 1e-6 * Math.Abs(c.Residual[i])).ToArray();
        var pairs = c.Outputs / 2;
        return Enumerable.Range(0, c.Rows * pairs).Select(i =>
        {
            var (m, n) = (i / pairs, 2 * (i % pairs));
            var (g, u) = (Math.Max(product[m * c.Outputs + n], 0), Math.Abs(product[m * c.Outputs + n + 1]));
            var (eg, eu) = (Product(m, n), Product(m, n + 1));
            return (2 * g + eg) * eg * (u + eu) + g * g * eu + 1e-6 * g * g * u + 1e-6;
        }).ToArray();
    }

    private static void Within(float[] expected, float[] actual, double[] bound, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (var i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs((double)actual[i] - expected[i]) <= bound[i]))
                Assert.Fail($"{what}[{i}] of {expected.Length}: GPU {actual[i]:R}, expected {expected[i]:R} (bound {bound[i]:G3})");
        }
    }

    private static float[] Dequantize(byte[] data, Half[] scales, int headDim)
    {
        var values = new float[data.Length * 2];
        for (var row = 0; row < values.Length / headDim; row++)
            KvInt4.DequantizeRow(data.AsSpan(row * headDim / 2, headDim / 2), scales.AsSpan(row * headDim / 32, headDim / 32), values.AsSpan(row * headDim, headDim));
        return values;
    }
}
