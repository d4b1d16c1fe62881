using Tritter.Core.Ternary;
using Tritter.Cpu.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>The packed ternary matmul on every kernel path against a naive float64 reference.</summary>
public sealed class TernaryMatmulTests
{
    // (m, K, N): the batch sizes asked for, odd K and N, K past one 16-bit accumulation group of every path (4096 on
    // AVX-512, 2048 on AVX2, 1024 on the portable vectors), and one size that runs on more than one thread. Packed rows
    // of 96, 256, 48, 16 and 1056 bytes: whole 64- and 32-byte vectors, tails of one to three 16-byte chunks, and rows
    // of tail only.
    private static readonly object[] Shapes =
    [
        new object[] { 1, 333, 77 },
        new object[] { 3, 1001, 45 },
        new object[] { 16, 129, 31 },
        new object[] { 5, 64, 8 },
        new object[] { 2, 4193, 21 },
        new object[] { 1, 4193, 603 },
        new object[] { 7, 2100, 13 },
    ];

    private static IEnumerable<TestCaseData> Cases() =>
        from path in Enum.GetNames<TernaryKernelPath>()
        from object[] shape in Shapes
        select new TestCaseData(path, shape[0], shape[1], shape[2]);

    [TestCaseSource(nameof(Cases))]
    public void Float_activations_with_reference_weights_match_float64(string pathName, int m, int k, int n)
    {
        var path = RequirePath(pathName);
        var random = TestRandom.Create();
        var weights = PackedTernaryMatrix.QuantizeReference(TestRandom.Floats(random, n * k), n, k, TestRandom.Floats(random, n, 2f));
        var x = TestRandom.Floats(random, m * k, 3f);
        var bias = TestRandom.Floats(random, n);
        var y = new float[m * n];
        TernaryMatmul.MultiplyFloat(x, m, weights, bias, y, path);

        var q = weights.Unpack();
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c < n; c++)
            {
                double dot = 0, magnitude = 0;
                for (var i = 0; i < k; i++)
                {
                    dot += q[c * k + i] * (double)x[r * k + i];
                    magnitude += Math.Abs(q[c * k + i] * (double)x[r * k + i]);
                }
                var scale = Math.Abs(weights.Scales[c]);
                var expected = dot * weights.Scales[c] + bias[c];
                Assert.That(y[r * n + c], Is.EqualTo(expected).Within(2e-6 * magnitude * scale + 1e-5), $"y[{r}, {c}]");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Int8_activations_with_paper_weights_match_float64(string pathName, int m, int k, int n)
    {
        var path = RequirePath(pathName);
        var random = TestRandom.Create();
        var weights = PackedTernaryMatrix.QuantizePaper(TestRandom.Floats(random, n * k), n, k);
        var x = TestRandom.Floats(random, m * k, 3f);
        var y = new float[m * n];
        TernaryMatmul.MultiplyInt8(x, m, weights, [], y, path);

        var q = weights.Unpack();
        var gamma = (double)weights.Scales[0];
        for (var r = 0; r < m; r++)
        {
            var row = x.AsSpan(r * k, k).ToArray();
            var absMax = row.Max(v => Math.Abs((double)v));
            var xq = row.Select(v => Math.Clamp(Math.Round(v * 127 / absMax), -127, 127)).ToArray();
            var quantum = gamma * absMax / 127;
            for (var c = 0; c < n; c++)
            {
                double dot = 0;
                for (var i = 0; i < k; i++)
                    dot += q[c * k + i] * xq[i];
                var expected = dot * quantum;
                // A product rounded at an exact half in float32 but not in float64 may move x_q by one quantum.
                Assert.That(y[r * n + c], Is.EqualTo(expected).Within(2 * quantum + 1e-6 * Math.Abs(expected)), $"y[{r}, {c}]");
            }
        }
    }

    // The AVX-512 float path sums by pair tables, the AVX2 path by FMA chains: they differ only in the order of the
    // float32 sums. The deviation, in units of sum |q x| scale, is printed.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(5)]
    public void Float_lookup_kernel_agrees_with_the_avx2_tiles(int m)
    {
        RequirePath(nameof(TernaryKernelPath.Avx512));
        RequirePath(nameof(TernaryKernelPath.Avx2));
        var random = TestRandom.Create();
        const int k = 4193, n = 603;
        var weights = PackedTernaryMatrix.QuantizeReference(TestRandom.Floats(random, n * k), n, k, TestRandom.Floats(random, n, 2f));
        var x = TestRandom.Floats(random, m * k, 3f);
        var (tiles, lookup) = (new float[m * n], new float[m * n]);
        TernaryMatmul.MultiplyFloat(x, m, weights, [], tiles, TernaryKernelPath.Avx2);
        TernaryMatmul.MultiplyFloat(x, m, weights, [], lookup, TernaryKernelPath.Avx512);

        var q = weights.Unpack();
        var worst = 0.0;
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c < n; c++)
            {
                var magnitude = 0.0;
                for (var i = 0; i < k; i++)
                    magnitude += Math.Abs(q[c * k + i] * (double)x[r * k + i]);
                var bound = magnitude * Math.Abs(weights.Scales[c]);
                worst = Math.Max(worst, Math.Abs(lookup[r * n + c] - tiles[r * n + c]) / bound);
                Assert.That(lookup[r * n + c], Is.EqualTo(tiles[r * n + c]).Within(2e-6 * bound), $"y[{r}, {c}]");
            }
        }
        TestContext.Out.WriteLine($"largest deviation from the AVX2 tiles: {worst:E2} of sum |q x| scale");
    }

    // Batched decoding must give each sequence what it gets alone: a row's bits may not depend on the batch size.
    [TestCase(nameof(TernaryKernelPath.Vector128))]
    [TestCase(nameof(TernaryKernelPath.Avx2))]
    [TestCase(nameof(TernaryKernelPath.Avx512))]
    public void Float_rows_give_the_same_bits_alone_and_batched(string pathName)
    {
        var path = RequirePath(pathName);
        var random = TestRandom.Create();
        const int m = 7, k = 2100, n = 83;
        var weights = PackedTernaryMatrix.QuantizeReference(TestRandom.Floats(random, n * k), n, k, TestRandom.Floats(random, n, 2f));
        var x = TestRandom.Floats(random, m * k, 3f);
        var batched = new float[m * n];
        TernaryMatmul.MultiplyFloat(x, m, weights, [], batched, path);
        for (var r = 0; r < m; r++)
        {
            var alone = new float[n];
            TernaryMatmul.MultiplyFloat(x.AsSpan(r * k, k), 1, weights, [], alone, path);
            Assert.That(alone, Is.EqualTo(batched.AsSpan(r * n, n).ToArray()), $"row {r}");
        }
    }

    [TestCase(nameof(TernaryKernelPath.Vector128))]
    [TestCase(nameof(TernaryKernelPath.Avx2))]
    [TestCase(nameof(TernaryKernelPath.Avx512))]
    public void Int8_vector_paths_agree_exactly_with_portable(string pathName)
    {
        var path = RequirePath(pathName);
        var random = TestRandom.Create();
        const int m = 7, k = 4321, n = 53;
        var weights = PackedTernaryMatrix.QuantizePaper(TestRandom.Floats(random, n * k), n, k);
        var x = TestRandom.Floats(random, m * k, 5f);
        var bias = TestRandom.Floats(random, n);
        var (portable, vector) = (new float[m * n], new float[m * n]);
        TernaryMatmul.MultiplyInt8(x, m, weights, bias, portable, TernaryKernelPath.Portable);
        TernaryMatmul.MultiplyInt8(x, m, weights, bias, vector, path);
        Assert.That(vector, Is.EqualTo(portable));
    }

    // Every weight +1 and every activation at full scale drive each 16-bit lane to the most its accumulation group
    // allows (c = 2 times 127 in every product); the sum must still come out exact.
    [TestCase(nameof(TernaryKernelPath.Vector128), 1f)]
    [TestCase(nameof(TernaryKernelPath.Vector128), -1f)]
    [TestCase(nameof(TernaryKernelPath.Avx2), 1f)]
    [TestCase(nameof(TernaryKernelPath.Avx2), -1f)]
    [TestCase(nameof(TernaryKernelPath.Avx512), 1f)]
    [TestCase(nameof(TernaryKernelPath.Avx512), -1f)]
    public void Int8_accumulation_groups_do_not_overflow_at_full_scale(string pathName, float sign)
    {
        var path = RequirePath(pathName);
        const int m = 3, k = 8191, n = 6;
        var weights = PackedTernaryMatrix.FromValues(Enumerable.Repeat((sbyte)1, n * k).ToArray(), n, k, TernaryScheme.Paper, [1f]);
        var x = Enumerable.Repeat(sign, m * k).ToArray();
        var y = new float[m * n];
        TernaryMatmul.MultiplyInt8(x, m, weights, [], y, path);
        // x_q = 127 sign, so the integer sum is 127 k sign, rescaled by 1 / 127 in float32; a lane that wrapped would
        // be off by 65536.
        Assert.That(y, Is.All.EqualTo(sign * k).Within(1e-6 * k));
    }

    [Test]
    public void Multiply_picks_activations_by_scheme()
    {
        var random = TestRandom.Create();
        const int m = 2, k = 100, n = 9;
        var x = TestRandom.Floats(random, m * k);
        var paper = PackedTernaryMatrix.QuantizePaper(TestRandom.Floats(random, n * k), n, k);
        var (viaScheme, viaInt8) = (new float[m * n], new float[m * n]);
        TernaryMatmul.Multiply(x, m, paper, [], viaScheme);
        TernaryMatmul.MultiplyInt8(x, m, paper, [], viaInt8);
        Assert.That(viaScheme, Is.EqualTo(viaInt8));
        var reference = PackedTernaryMatrix.QuantizeReference(TestRandom.Floats(random, n * k), n, k, TestRandom.Floats(random, n));
        var viaFloat = new float[m * n];
        TernaryMatmul.Multiply(x, m, reference, [], viaScheme);
        TernaryMatmul.MultiplyFloat(x, m, reference, [], viaFloat);
        Assert.That(viaScheme, Is.EqualTo(viaFloat));
    }

    [Test]
    public void Mismatched_shapes_are_rejected()
    {
        var weights = PackedTernaryMatrix.FromValues(TernaryPackingTests.GoldenValues, 2, 20, TernaryScheme.Paper, [1f]);
        Assert.That(() => TernaryMatmul.MultiplyFloat(new float[19], 1, weights, [], new float[2]), Throws.ArgumentException.With.Message.Contains("1 x 20"));
        Assert.That(() => TernaryMatmul.MultiplyFloat(new float[20], 1, weights, [], new float[3]), Throws.ArgumentException.With.Message.Contains("1 x 2"));
        Assert.That(() => TernaryMatmul.MultiplyInt8(new float[20], 1, weights, new float[3], new float[2]), Throws.ArgumentException.With.Message.Contains("bias"));
    }

    private static TernaryKernelPath RequirePath(string pathName)
    {
        var path = Enum.Parse<TernaryKernelPath>(pathName);
        if (!TernaryKernelPaths.IsSupported(path))
            Assert.Ignore($"{path} is not supported on this CPU");
        return path;
    }
}
