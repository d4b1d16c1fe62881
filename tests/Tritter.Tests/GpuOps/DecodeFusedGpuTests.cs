using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Cpu.Ops;
using Tritter.Tests.Ops;
using Tritter.Tests.Support;
using static Tritter.Tests.Ops.DecodeFusedRuns;

namespace Tritter.Tests.GpuOps;

/// <summary>
/// The fused decode kernels (<c>kernels/decode_fused.cu</c>) against the CPU's fused ops, and against the unfused kernels
/// on the GPU, whose float32 operations they share: bit-equal to the latter, so a decode step's results do not move
/// (the fused input norm of a batch-1 product excepted where its block's size differs: within float32 rounding).
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

    // Batch 1 runs the fused batch-1 kernels: the 7B q|k|v shape (block moments), rows narrower than a block norm (warp
    // moments) and exactly one block wide, the 7B output product with its residual, the 7B down product and an odd
    // one (gated), a K past the float32 kernel's shared memory (the staged fallback); batches of 2-5 stage the input.
    private static readonly object[] FusedTernaryCases =
    [
        new object[] { InputKind.Normed, 1, 6144, 4096, false },
        new object[] { InputKind.Normed, 1, 100, 1000, false },
        new object[] { InputKind.Normed, 1, 64, 1024, true },
        new object[] { InputKind.Rows, 1, 4096, 4096, true },
        new object[] { InputKind.Gated, 1, 4096, 11008, false },
        new object[] { InputKind.Gated, 1, 33, 1027, true },
        new object[] { InputKind.Gated, 1, 8, 40_000, true },
        new object[] { InputKind.Normed, 3, 100, 4096, true },
        new object[] { InputKind.Gated, 2, 50, 300, false },
        new object[] { InputKind.Rows, 5, 64, 200, true },
    ];

    [TestCaseSource(nameof(FusedTernaryCases))]
    public void Fused_ternary_matmul_matches_cpu_and_the_unfused_kernels(InputKind kind, int rows, int outputs, int columns, bool residual)
    {
        foreach (var scheme in new[] { TernaryScheme.Reference, TernaryScheme.Paper })
        {
            var c = TernaryCase.Random(TestRandom.Create(), kind, scheme, rows, outputs, columns, residual);
            using var cpu = new CpuBackend();
            var expected = FusedTernary(cpu, c, fused: true);
            var unfused = FusedTernary(Gpu, c, fused: false);
            var actual = FusedTernary(Gpu, c, fused: true);
            var bound = Bounds(c);
            // The fused norm takes its moments over its own block of 256 threads: the unfused block norm's bits only
            // where that kernel runs 256 threads too (rows of 1024) or a warp per row (narrower), or for batches (unfused).
            if (kind != InputKind.Normed || rows > 1 || columns <= 1024)
                GpuCompare.Ulps(unfused, actual, 0, $"{scheme}: against the unfused kernels");
            else
                Within(unfused, actual, bound, $"{scheme}: against the unfused kernels");
            Within(expected, actual, bound, $"{scheme}: against the CPU");
        }
    }

    /// <summary>
    /// Per output: float32 sums of K terms in another order (a few ulps of the sum of magnitudes, as the GEMV tests), and
    /// with int8 activations two quantisation steps, since a norm a few ulps off may round an activation the other way.
    /// </summary>
    private static double[] Bounds(TernaryCase c)
    {
        var bounds = new double[c.Rows * c.Outputs];
        for (var m = 0; m < c.Rows; m++)
        {
            var x = Activations(c, m);
            var (magnitude, peak) = (x.Sum(Math.Abs), x.Max(Math.Abs));
            for (var n = 0; n < c.Outputs; n++)
            {
                var s = Math.Abs(c.Scales[n]);
                var residual = c.Residual is null ? 0 : Math.Abs(c.Residual[m * c.Outputs + n]);
                bounds[m * c.Outputs + n] = 3e-6 * magnitude * s + 1e-6 * (residual + Math.Abs(c.Bias[n])) + 1e-6
                    + (c.Scheme == TernaryScheme.Paper ? 2 * peak / 127 * s : 0);
            }
        }
        return bounds;
    }

    /// <summary>Row <paramref name="m"/>'s activations in float64, for the bounds only.</summary>
    private static double[] Activations(TernaryCase c, int m)
    {
        var k = c.Columns;
        if (c.Kind == InputKind.Gated)
            return Enumerable.Range(0, k).Select(i => Math.Pow(Math.Max(c.Source[m * 2 * k + i], 0), 2) * c.Source[m * 2 * k + k + i]).ToArray();
        var row = c.Source.AsSpan(m * k, k).ToArray().Select(v => (double)v).ToArray();
        if (c.Kind == InputKind.Rows)
            return row;
        var mean = row.Average();
        var rstd = 1 / Math.Sqrt(row.Sum(v => (v - mean) * (v - mean)) / k + Epsilon);
        return row.Select((v, i) => (v - mean) * rstd * c.NormWeight[i] + c.NormBias[i]).ToArray();
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
