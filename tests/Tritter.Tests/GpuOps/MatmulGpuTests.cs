using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Cuda;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.GpuOps;

/// <summary>
/// The CUDA dense matmul at each <see cref="MatmulPrecision"/> (TF32 or bf16 tensor cores), forward and backward, against
/// float64 products of the same inputs; bf16 on mma.sync everywhere, and on wgmma where the device has it (all three
/// products but the split-k input gradient, which stays mma.sync).
/// </summary>
[TestFixture(MatmulPrecision.Tf32, false)]
[TestFixture(MatmulPrecision.BFloat16, false)]
[TestFixture(MatmulPrecision.BFloat16, true)]
public sealed class MatmulGpuTests(MatmulPrecision precision, bool wgmma) : GpuFixture
{
    // (rows, in, out): single elements, sizes off every tile edge (63, 65, 300, 1031), odd feature counts that take the
    // TF32 kernel's 4-byte copy path and pad the bf16 copies' rows (7, 63, 65, 1031) next to multiples of 4 and 8, the
    // tiny preset's 64/172/512 at inference's 16 rows, and K past a thousand in each of the three products.
    private static readonly object[] Shapes =
    [
        new[] { 1, 1, 1 }, new[] { 7, 63, 65 }, new[] { 16, 512, 172 }, new[] { 65, 172, 64 }, new[] { 300, 1000, 63 },
        new[] { 1025, 300, 172 }, new[] { 130, 1031, 1000 }, new[] { 1, 7, 300 },
        // Two output tiles of dX over K = 4100 (65 k tiles): the bf16 dX runs as 4 k ranges of 17, 17, 17 and 14 tiles.
        new[] { 100, 200, 4100 },
    ];

    // Each operand is rounded to nearest with 11 (TF32) or 8 (bf16) significant bits, relative error u <= 2^-11 or 2^-8,
    // so a product is within (2u + u^2) |a||b| of exact (9.8e-4 or 7.8e-3); the fp32 accumulation adds at most K 2^-24
    // sum |a||b| (6e-5 at K = 1031). The bound 4u sum_k |a||b| (plus the magnitude of a bias or of the accumulated start)
    // holds for any input with a 2x margin; the expected values are float64.
    private static double UnitRoundoff(MatmulPrecision p) => p == MatmulPrecision.Tf32 ? 1.0 / 2048 : 1.0 / 256;

    private readonly double _worstCase = 4 * UnitRoundoff(precision);

    // Rounding errors are independent and unbiased (round to nearest), so over many outputs the error's RMS, measured
    // in units of sqrt(sum_k (ab)^2), is about 0.58 u (uniform relative error of two roundings): asserting it below u
    // catches a dropped or repeated k term, which the worst-case bound alone would hide at large K. Measured on an H100
    // (2026-12-07): 0.54 u for bf16, whose bound first read 2^-9 for u and failed at 1.08 of it.
    private readonly double _typicalRms = UnitRoundoff(precision);
    private const int TypicalMinimumOutputs = 4096;

    /// <summary>Runs the fixture's products at its precision, on wgmma or not.</summary>
    [OneTimeSetUp]
    public void UsePrecision()
    {
        if (wgmma && !Gpu.WgmmaAvailable)
            Assert.Ignore($"{Gpu.Name} has no wgmma (compute capability 9.0 only)");
        Gpu.MatmulPrecision = precision;
        Gpu.UseWgmma = wgmma;
    }

    [TestCaseSource(nameof(Shapes))]
    public void Forward_matches_float64(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var b = TestRandom.Floats(random, outFeatures);
        using var input = Floats(Gpu, x, [rows, inFeatures]);
        using var weight = Floats(Gpu, w, [outFeatures, inFeatures]);
        using var bias = Floats(Gpu, b, [outFeatures]);
        using var output = Gpu.Allocate(DType.Float32, [rows, outFeatures]);
        using var plain = Gpu.Allocate(DType.Float32, [rows, outFeatures]);

        Gpu.Matmul(input, weight, bias, output);
        Gpu.Matmul(input, weight, null, plain);
        var withBias = Read(Gpu, output);
        Gpu.Matmul(input, weight, bias, output);
        GpuCompare.BitEqual(withBias, Read(Gpu, output), "output");

        var product = Product.Of(rows, outFeatures, inFeatures, (n, k) => x[n * inFeatures + k], (k, m) => w[m * inFeatures + k]);
        Check(product, Read(Gpu, plain), new double[product.Value.Length], "output without bias");
        var biasStart = Enumerable.Range(0, rows * outFeatures).Select(i => (double)b[i % outFeatures]).ToArray();
        Check(product, withBias, biasStart, "output with bias");

        // A residual joins the output in the GEMM: its values start the accumulators, as a start in Check.
        var r = TestRandom.Floats(random, rows * outFeatures, 10f);
        using var residual = Floats(Gpu, r, [rows, outFeatures]);
        Gpu.Matmul(input, weight, bias, output, residual);
        Check(product, Read(Gpu, output), biasStart.Select((v, i) => v + r[i]).ToArray(), "output with bias and residual");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Backward_matches_float64(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var dy = TestRandom.Floats(random, rows * outFeatures);
        // Parameter gradients accumulate: start them from known non-zero values.
        var w0 = TestRandom.Floats(random, w.Length, 10f);
        var b0 = TestRandom.Floats(random, outFeatures, 10f);
        using var input = Floats(Gpu, x, [rows, inFeatures]);
        using var weight = Floats(Gpu, w, [outFeatures, inFeatures]);
        using var outputGradient = Floats(Gpu, dy, [rows, outFeatures]);
        using var inputGradient = Gpu.Allocate(DType.Float32, [rows, inFeatures]);
        using var weightGradient = Floats(Gpu, w0, [outFeatures, inFeatures]);
        using var biasGradient = Floats(Gpu, b0, [outFeatures]);

        Gpu.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient);
        var (dx, dw, db) = (Read(Gpu, inputGradient), Read(Gpu, weightGradient), Read(Gpu, biasGradient));

        var inputProduct = Product.Of(rows, inFeatures, outFeatures, (n, m) => dy[n * outFeatures + m], (m, k) => w[m * inFeatures + k]);
        Check(inputProduct, dx, new double[dx.Length], "input gradient");
        var weightProduct = Product.Of(outFeatures, inFeatures, rows, (m, n) => dy[n * outFeatures + m], (n, k) => x[n * inFeatures + k]);
        Check(weightProduct, dw, HostTensors.ToDouble(w0), "weight gradient");
        var columnSums = Product.Of(1, outFeatures, rows, (_, n) => 1f, (n, m) => dy[n * outFeatures + m]);
        // The bias gradient is a plain fp32 sum (no TF32) in chunks of 32 rows, then over the chunks: at most
        // (32 + rows / 32) 2^-24 of sum |dy| (3.9e-6 at 1025 rows), below 1e-5.
        GpuCompare.Close(columnSums.Value.Select((v, m) => (float)(v + b0[m])).ToArray(), db, 1e-5,
            m => columnSums.Absolute[m] + Math.Abs(b0[m]), "bias gradient");

        // dX skipped when null; dW and db accumulate a second time, bit-identically to the first.
        Gpu.MatmulBackward(outputGradient, input, weight, null, weightGradient, biasGradient);
        using var dwAgain = Floats(Gpu, w0, [outFeatures, inFeatures]);
        using var dbAgain = Floats(Gpu, b0, [outFeatures]);
        Gpu.MatmulBackward(outputGradient, input, weight, null, dwAgain, dbAgain);
        GpuCompare.BitEqual(dw, Read(Gpu, dwAgain), "weight gradient");
        GpuCompare.BitEqual(db, Read(Gpu, dbAgain), "bias gradient");
        var doubled = new Product(weightProduct.Value.Select(v => 2 * v).ToArray(), weightProduct.Absolute.Select(a => 2 * a).ToArray(),
            weightProduct.Squares.Select(s => 4 * s).ToArray());
        Check(doubled, Read(Gpu, weightGradient), HostTensors.ToDouble(w0), "weight gradient accumulated twice");
    }

    // dX added onto a start (a projection whose input feeds others) against float64: the start enters the accumulators
    // before the products, so its bound is the product's plus the start's own magnitude.
    [TestCaseSource(nameof(Shapes))]
    public void Input_gradient_accumulates_onto_its_start(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var dy = TestRandom.Floats(random, rows * outFeatures);
        var x0 = TestRandom.Floats(random, rows * inFeatures, 10f);
        using var input = Floats(Gpu, TestRandom.Floats(random, rows * inFeatures), [rows, inFeatures]);
        using var weight = Floats(Gpu, w, [outFeatures, inFeatures]);
        using var outputGradient = Floats(Gpu, dy, [rows, outFeatures]);
        using var inputGradient = Floats(Gpu, x0, [rows, inFeatures]);
        using var weightGradient = Gpu.Allocate(DType.Float32, [outFeatures, inFeatures]);
        Gpu.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, null, overwriteWeightGradient: true,
            accumulateInputGradient: true);
        var inputProduct = Product.Of(rows, inFeatures, outFeatures, (n, m) => dy[n * outFeatures + m], (m, k) => w[m * inFeatures + k]);
        Check(inputProduct, Read(Gpu, inputGradient), HostTensors.ToDouble(x0), "input gradient accumulated");
    }

    // An input converted once to the products' operand type (ConvertOperand: the CPU's bf16 rounding, bit for bit) gives
    // the products' bits for the float32 input, which they convert themselves; TF32 products refuse a bf16 input.
    [TestCase(7, 64, 65)]
    [TestCase(300, 1000, 63)]
    public void Input_converted_once_gives_the_products_of_the_float_input(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        using var input = Floats(Gpu, x, [rows, inFeatures]);
        using var weight = Floats(Gpu, TestRandom.Floats(random, outFeatures * inFeatures), [outFeatures, inFeatures]);
        using var outputGradient = Floats(Gpu, TestRandom.Floats(random, rows * outFeatures), [rows, outFeatures]);
        using var operand = Gpu.Allocate(DType.BFloat16, [rows, inFeatures]);
        Gpu.ConvertOperand(input, operand);
        var bits = new ushort[x.Length];
        Gpu.Download<ushort>(operand, bits);
        Assert.That(bits, Is.EqualTo(x.Select(BFloat16Bits.FromSingle).ToArray()), "bf16 rounding");
        using var heads = Gpu.View(input, 0, [rows, inFeatures / 8, 8]);
        using var headOperand = Gpu.Allocate(DType.BFloat16, [rows, inFeatures / 8, 8]);
        Gpu.ConvertOperand(heads, headOperand);
        var headBits = new ushort[x.Length];
        Gpu.Download<ushort>(headOperand, headBits);
        Assert.That(headBits, Is.EqualTo(bits), "bf16 rounding of a [rows, heads, 8] tensor");
        using var output = Gpu.Allocate(DType.Float32, [rows, outFeatures]);
        if (precision != MatmulPrecision.BFloat16)
        {
            Assert.That(() => Gpu.Matmul(operand, weight, null, output), Throws.ArgumentException.With.Message.Contains("needs bf16 products"));
            return;
        }
        Gpu.Matmul(input, weight, null, output);
        var expected = Read(Gpu, output);
        Gpu.Matmul(operand, weight, null, output);
        GpuCompare.BitEqual(expected, Read(Gpu, output), "output");
        using var fromFloat = Gpu.Allocate(DType.Float32, [outFeatures, inFeatures]);
        using var fromOperand = Gpu.Allocate(DType.Float32, [outFeatures, inFeatures]);
        Gpu.MatmulBackward(outputGradient, input, weight, null, fromFloat, null, overwriteWeightGradient: true);
        Gpu.MatmulBackward(outputGradient, operand, weight, null, fromOperand, null, overwriteWeightGradient: true);
        GpuCompare.BitEqual(Read(Gpu, fromFloat), Read(Gpu, fromOperand), "weight gradient");
    }

    // Overwriting dW (the first contribution of a step) gives the bits of accumulating onto zeros, whatever it held.
    [TestCaseSource(nameof(Shapes))]
    public void Weight_gradient_overwrite_equals_accumulating_onto_zeros(int[] shape)
    {
        var (rows, inFeatures, outFeatures) = (shape[0], shape[1], shape[2]);
        var random = TestRandom.Create();
        using var input = Floats(Gpu, TestRandom.Floats(random, rows * inFeatures), [rows, inFeatures]);
        using var weight = Floats(Gpu, TestRandom.Floats(random, outFeatures * inFeatures), [outFeatures, inFeatures]);
        using var outputGradient = Floats(Gpu, TestRandom.Floats(random, rows * outFeatures), [rows, outFeatures]);
        using var zeros = Floats(Gpu, new float[outFeatures * inFeatures], [outFeatures, inFeatures]);
        using var stale = Floats(Gpu, TestRandom.Floats(random, outFeatures * inFeatures, 10f), [outFeatures, inFeatures]);
        Gpu.MatmulBackward(outputGradient, input, weight, null, zeros, null);
        Gpu.MatmulBackward(outputGradient, input, weight, null, stale, null, overwriteWeightGradient: true);
        GpuCompare.BitEqual(Read(Gpu, zeros), Read(Gpu, stale), "weight gradient");
    }

    [Test]
    public void Forward_matches_cpu_backend_on_a_training_shape()
    {
        const int rows = 512, inFeatures = 768, outFeatures = 2048;
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        using var cpu = new CpuBackend();
        float[] Run<TBackend>(TBackend backend) where TBackend : Core.Backends.ITensorStore, Core.Backends.IMatmulOps
        {
            using var input = Floats(backend, x, [rows, inFeatures]);
            using var weight = Floats(backend, w, [outFeatures, inFeatures]);
            using var output = backend.Allocate(DType.Float32, [rows, outFeatures]);
            backend.Matmul(input, weight, null, output);
            return Read(backend, output);
        }
        var expected = Run(cpu);
        var actual = Run(Gpu);
        // The worst-case bound above; the CPU's own fp32 error (at most K 2^-24 sum |a||b|) fits inside its margin.
        var product = Product.Of(rows, outFeatures, inFeatures, (n, k) => x[n * inFeatures + k], (k, m) => w[m * inFeatures + k]);
        GpuCompare.Close(expected, actual, _worstCase, i => product.Absolute[i], "output");
    }

    [Test]
    public void A_bf16_weight_gives_the_bits_of_its_float32_source_where_the_products_are_bf16()
    {
        const int rows = 70, inFeatures = 136, outFeatures = 130;
        Assert.That(Gpu.WeightType(inFeatures), Is.EqualTo(precision == MatmulPrecision.BFloat16 ? DType.BFloat16 : DType.Float32));
        Assert.That(Gpu.WeightType(inFeatures + 1), Is.EqualTo(DType.Float32), "rows of bf16 weights are whole 16-byte chunks");
        var random = TestRandom.Create();
        var x = TestRandom.Floats(random, rows * inFeatures);
        var w = TestRandom.Floats(random, outFeatures * inFeatures);
        var dy = TestRandom.Floats(random, rows * outFeatures);
        using var input = Floats(Gpu, x, [rows, inFeatures]);
        using var weight = Floats(Gpu, w, [outFeatures, inFeatures]);
        using var narrow = Gpu.Allocate(DType.BFloat16, [outFeatures, inFeatures]);
        var bits = new ushort[w.Length];
        BFloat16Bits.FromSingle(w, bits);
        Gpu.Upload<ushort>(narrow, bits);
        if (precision == MatmulPrecision.Tf32)
        {
            using var y = Gpu.Allocate(DType.Float32, [rows, outFeatures]);
            Assert.That(() => Gpu.Matmul(input, narrow, null, y), Throws.ArgumentException.With.Message.Contains("needs bf16 products"));
            return;
        }
        float[] Forward(Tensor wt)
        {
            using var y = Gpu.Allocate(DType.Float32, [rows, outFeatures]);
            Gpu.Matmul(input, wt, null, y);
            return Read(Gpu, y);
        }
        float[] InputGradient(Tensor wt)
        {
            using var gradient = Floats(Gpu, dy, [rows, outFeatures]);
            using var dx = Gpu.Allocate(DType.Float32, [rows, inFeatures]);
            using var dw = Gpu.Allocate(DType.Float32, [outFeatures, inFeatures]);
            Gpu.Fill(dw, 0);
            Gpu.MatmulBackward(gradient, input, wt, dx, dw, null);
            return Read(Gpu, dx);
        }
        GpuCompare.BitEqual(Forward(weight), Forward(narrow), "output");
        GpuCompare.BitEqual(InputGradient(weight), InputGradient(narrow), "input gradient");
    }

    [Test]
    public void Mismatched_shapes_are_rejected_as_on_the_cpu()
    {
        using var input = Gpu.Allocate(DType.Float32, [3, 5]);
        using var weight = Gpu.Allocate(DType.Float32, [4, 6]);
        using var output = Gpu.Allocate(DType.Float32, [3, 4]);
        using var gradient = Gpu.Allocate(DType.Float32, [4, 6]);
        using var bias = Gpu.Allocate(DType.Float32, [5]);
        Assert.That(() => Gpu.Matmul(input, weight, null, output), Throws.ArgumentException.With.Message.Contains("rows of 6"));
        Assert.That(() => Gpu.MatmulBackward(output, input, weight, null, gradient, null), Throws.ArgumentException.With.Message.Contains("rows of 6"));
        using var goodInput = Gpu.Allocate(DType.Float32, [3, 6]);
        Assert.That(() => Gpu.MatmulBackward(output, goodInput, weight, null, gradient, bias),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("biasGradient"));
    }

    private void Check(Product expected, float[] actual, double[] start, string what)
    {
        var target = expected.Value.Select((v, i) => (float)(v + start[i])).ToArray();
        GpuCompare.Close(target, actual, _worstCase, i => expected.Absolute[i] + Math.Abs(start[i]), what);
        if (actual.Length < TypicalMinimumOutputs)
            return;
        var squared = 0.0;
        for (var i = 0; i < actual.Length; i++)
        {
            var error = actual[i] - (expected.Value[i] + start[i]);
            squared += expected.Squares[i] == 0 ? 0 : error * error / expected.Squares[i];
        }
        var rms = Math.Sqrt(squared / actual.Length);
        Assert.That(rms, Is.LessThan(_typicalRms), $"{what}: RMS error in units of sqrt(sum (ab)^2)");
    }

    /// <summary>Float64 <c>C[i, j] = sum_k A(i, k) B(k, j)</c>, with <c>sum |a||b|</c> and <c>sum (ab)^2</c> per output.</summary>
    private sealed record Product(double[] Value, double[] Absolute, double[] Squares)
    {
        public static Product Of(int m, int n, int k, Func<int, int, float> a, Func<int, int, float> b)
        {
            var (value, absolute, squares) = (new double[m * n], new double[m * n], new double[m * n]);
            Parallel.For(0, m, i =>
            {
                var row = new double[k];
                for (var p = 0; p < k; p++)
                    row[p] = a(i, p);
                for (var j = 0; j < n; j++)
                {
                    double sum = 0, abs = 0, sq = 0;
                    for (var p = 0; p < k; p++)
                    {
                        var term = row[p] * b(p, j);
                        sum += term;
                        abs += Math.Abs(term);
                        sq += term * term;
                    }
                    (value[i * n + j], absolute[i * n + j], squares[i * n + j]) = (sum, abs, sq);
                }
            });
            return new Product(value, absolute, squares);
        }
    }
}
