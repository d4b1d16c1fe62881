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

    private static float[] Dequantize(byte[] data, Half[] scales, int headDim)
    {
        var values = new float[data.Length * 2];
        for (var row = 0; row < values.Length / headDim; row++)
            KvInt4.DequantizeRow(data.AsSpan(row * headDim / 2, headDim / 2), scales.AsSpan(row * headDim / 32, headDim / 32), values.AsSpan(row * headDim, headDim));
        return values;
    }
}
