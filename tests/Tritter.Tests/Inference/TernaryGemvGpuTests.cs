using Tritter.Core.Tensors;
using Tritter.Cpu.Ternary;
using Tritter.Cuda;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>The CUDA ternary GEMV/GEMM against a float64 reference computed from the unpacked ternary weights.</summary>
public sealed class TernaryGemvGpuTests : GpuFixture
{
    // K values off every packing unit (16 per word, 64 per GPU row unit, 256 per batch-1 step), batches that hit every
    // instantiated row count and the loops past 8 (float32 staged) and 16 (int8 batch and float32 direct, then one
    // batch-1 row), one 7B-sized shape, and K so large that the float32 activations no longer fit shared memory and the
    // direct kernels run (beyond ~29K inputs on an H100). Batch 1 runs the row1 kernels: N off their 8- and 16-row
    // groups, N small and large enough for every team split, the output head, and K past their float32 shared memory
    // (~37K inputs on an H100). From 32 rows, both run the int8 tensor-core GEMM on rewritten
    // weights (float32 activations as three int8 digits).
    private static readonly object[] Cases =
    [
        new object[] { 1, 1, 1 },
        new object[] { 1, 37, 15 },
        new object[] { 1, 100, 97 },
        new object[] { 1, 257, 1000 },
        new object[] { 1, 4096, 4096 },
        new object[] { 1, 11008, 4096 },
        new object[] { 1, 32000, 4096 },
        new object[] { 1, 24, 30_001 },
        new object[] { 1, 5, 60_001 },
        new object[] { 3, 100, 97 },
        new object[] { 2, 257, 1000 },
        new object[] { 8, 64, 4096 },
        new object[] { 16, 33, 513 },
        new object[] { 19, 129, 2049 },
        new object[] { 1, 4096, 11008 },
        new object[] { 17, 40, 30_001 },
        new object[] { 3, 8, 120_001 },
        new object[] { 32, 200, 1000 },
        new object[] { 100, 300, 4200 },
        new object[] { 64, 4096, 4096 },
    ];

    [TestCaseSource(nameof(Cases))]
    public void Float32_activations_match_float64(int rows, int outputs, int inputs) =>
        Check(rows, outputs, inputs, TernaryActivations.Float32);

    [TestCaseSource(nameof(Cases))]
    public void Int8_activations_match_float64(int rows, int outputs, int inputs) =>
        Check(rows, outputs, inputs, TernaryActivations.Int8);

    // An all-zero row quantises with the CPU's absmax floor (1e-5) to zeros: the outputs are the biases, never NaN.
    [TestCase(1)]
    [TestCase(3)]
    public void Int8_zero_rows_give_the_bias(int rows)
    {
        var random = TestRandom.Create();
        const int outputs = 33, inputs = 300;
        var (canonical, wordsPerRow, _) = RandomTernary(random, outputs, inputs);
        var bias = TestRandom.Floats(random, outputs, 0.1f);
        using var weights = Gpu.UploadTernary(canonical, wordsPerRow, outputs, inputs, TestRandom.Floats(random, outputs, 0.5f), bias);
        using var input = Gpu.Allocate(DType.Float32, [rows, inputs]);
        using var output = Gpu.Allocate(DType.Float32, [rows, outputs]);
        Gpu.Upload<float>(input, new float[rows * inputs]);
        Gpu.TernaryMatmul(weights, input, output, TernaryActivations.Int8);
        var y = new float[rows * outputs];
        Gpu.Download<float>(output, y);
        for (var m = 0; m < rows; m++)
            Assert.That(y.AsSpan(m * outputs, outputs).ToArray(), Is.EqualTo(bias), $"row {m}");
    }

    [Test]
    public void Shapes_that_disagree_are_rejected()
    {
        var random = TestRandom.Create();
        var (canonical, wordsPerRow, _) = RandomTernary(random, 4, 20);
        using var weights = Gpu.UploadTernary(canonical, wordsPerRow, 4, 20, [1f, 1f, 1f, 1f]);
        using var x = Gpu.Allocate(DType.Float32, [2, 21]);
        using var y = Gpu.Allocate(DType.Float32, [2, 4]);
        Assert.That(() => Gpu.TernaryMatmul(weights, x, y, TernaryActivations.Float32),
            Throws.ArgumentException.With.Message.Contains("[M, 20]"));
        Assert.That(() => Gpu.UploadTernary(canonical, wordsPerRow, 4, 20, [1f]), Throws.ArgumentException.With.Message.Contains("scales"));
    }

    private void Check(int rows, int outputs, int inputs, TernaryActivations activations)
    {
        var random = TestRandom.Create();
        var (canonical, wordsPerRow, q) = RandomTernary(random, outputs, inputs);
        var scales = TestRandom.Floats(random, outputs, 0.5f);
        var bias = TestRandom.Floats(random, outputs, 0.1f);
        var x = TestRandom.Floats(random, rows * inputs, 2f);

        using var weights = Gpu.UploadTernary(canonical, wordsPerRow, outputs, inputs, scales, bias);
        using var input = Gpu.Allocate(DType.Float32, [rows, inputs]);
        using var output = Gpu.Allocate(DType.Float32, [rows, outputs]);
        Gpu.Upload<float>(input, x);
        Gpu.TernaryMatmul(weights, input, output, activations);
        var y = new float[rows * outputs];
        Gpu.Download<float>(output, y);

        for (var m = 0; m < rows; m++)
        {
            var row = x.AsSpan(m * inputs, inputs);
            var (xUsed, xScale) = activations == TernaryActivations.Int8 ? QuantizeLikeThePaper(row) : (ToDouble(row), 1.0);
            var magnitude = row.ToArray().Sum(v => Math.Abs((double)v));
            for (var n = 0; n < outputs; n++)
            {
                double dot = 0;
                for (var k = 0; k < inputs; k++)
                    dot += q[n * inputs + k] * xUsed[k];
                var expected = dot * xScale * scales[n] + bias[n];
                // float32 accumulation of K terms on the GPU, computed as sum(c x) - sum(x) with c in {0,1,2}: the error
                // is bounded by a few float32 ulps of 3 * sum|x| * |scale|; the int8 path accumulates exactly and
                // differs only in the final float32 rescale.
                var tolerance = 1e-6 * 3 * magnitude * Math.Abs(scales[n]) + 1e-6 * Math.Abs(expected) + 1e-6;
                Assert.That(y[m * outputs + n], Is.EqualTo(expected).Within(tolerance), $"row {m}, output {n} ({activations})");
            }
        }
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
            result[i] = values[i];
        return result;
    }

    /// <summary>
    /// The paper's per-token absmax int8 quantisation, in float32 arithmetic as the kernel does it, with the CPU's absmax
    /// floor (<see cref="Int8Activations.MinAbsMax"/>).
    /// </summary>
    private static (double[] Quantized, double Scale) QuantizeLikeThePaper(ReadOnlySpan<float> row)
    {
        var absMax = Int8Activations.MinAbsMax;
        foreach (var v in row)
            absMax = MathF.Max(absMax, MathF.Abs(v));
        var inverse = 127f / absMax;
        var quantized = new double[row.Length];
        for (var i = 0; i < row.Length; i++)
            quantized[i] = Math.Clamp(MathF.Round(row[i] * inverse, MidpointRounding.ToEven), -127f, 127f);
        return (quantized, absMax / 127f);
    }

    /// <summary>Random ternary weights and their canonical packing (DESIGN.md §4), rows of ceil(K/16) words.</summary>
    private static (uint[] Canonical, int WordsPerRow, sbyte[] Q) RandomTernary(Random random, int outputs, int inputs)
    {
        var wordsPerRow = (inputs + 15) / 16;
        var canonical = new uint[outputs * wordsPerRow];
        var q = new sbyte[outputs * inputs];
        for (var n = 0; n < outputs; n++)
        {
            for (var k = 0; k < inputs; k++)
            {
                var value = (sbyte)random.Next(-1, 2);
                q[n * inputs + k] = value;
                uint code = value switch { 1 => 0b01u, -1 => 0b10u, _ => 0u };
                canonical[n * wordsPerRow + k / 16] |= code << (k % 16 * 2);
            }
        }
        return (canonical, wordsPerRow, q);
    }
}
