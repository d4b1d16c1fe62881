using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu;
using Tritter.Inference.Decoding;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>
/// Projections of one input stacked into one (q|k|v, gate|up) against the separate products on the CPU, each with its
/// weights as the quantiser made them (the paper scheme's one scale per matrix): every output must have the same bits,
/// in each scheme and with BitNet off (parts in fours there), for one token (decode) and several (prefill).
/// </summary>
public sealed class StackedProjectionTests
{
    public enum Kind
    {
        Reference,
        Paper,
        Dense,
    }

    /// <summary>q|k|v and gate|up shapes; 34 rows leave a part's last rows outside the CPU dense matmul's tiles of four.</summary>
    private static readonly int[][] Parts = [[64, 32, 32], [34, 34]];

    [Test]
    public void A_stacked_ternary_projection_gives_the_bits_of_the_separate_products(
        [Values(Kind.Reference, Kind.Paper)] Kind kind, [Values(1, 5)] int tokens, [Values(96, 128)] int inFeatures, [ValueSource(nameof(Parts))] int[] rows) =>
        Compare(kind, tokens, inFeatures, rows);

    /// <summary>
    /// With BitNet off the CPU matmul sums two input rows against four output features at a time and the features past a
    /// multiple of four one by one, in another order: stacking keeps the bits where every part's rows are a multiple of
    /// four, as q, k and v always are (multiples of head_dim, itself of 32) and gate and up are in every preset.
    /// </summary>
    [Test]
    public void A_stacked_float_projection_of_parts_in_fours_gives_the_bits_of_the_separate_products(
        [Values(1, 5)] int tokens, [Values(96, 128)] int inFeatures) =>
        Compare(Kind.Dense, tokens, inFeatures, Parts[0]);

    private static void Compare(Kind kind, int tokens, int inFeatures, int[] rows)
    {
        var random = TestRandom.Create();
        var parts = rows.Select(n => Part(random, kind, n, inFeatures)).ToArray();
        using var backend = new CpuBackend();
        var block = new WeightBlock();
        var stacked = LinearSlots.Add(block, parts);
        block.Arrange(backend);
        using var device = block.Upload(backend);
        var input = TestRandom.Floats(random, tokens * inFeatures);
        var all = Forward(backend, stacked.Bind(backend, device), input, tokens, inFeatures, rows.Sum());
        var first = 0;
        for (var p = 0; p < parts.Length; p++)
        {
            var expected = Separate(backend, parts[p], input, tokens);
            for (var t = 0; t < tokens; t++)
            {
                var actual = all.AsSpan(t * rows.Sum() + first, rows[p]).ToArray();
                Assert.That(actual, Is.EqualTo(expected.AsSpan(t * rows[p], rows[p]).ToArray()), $"part {p}, token {t}");
            }
            first += rows[p];
        }
    }

    [Test]
    public void Parts_of_other_inputs_or_schemes_are_refused()
    {
        var random = TestRandom.Create();
        var block = new WeightBlock();
        Assert.That(() => LinearSlots.Add(block, Part(random, Kind.Reference, 8, 64), Part(random, Kind.Reference, 8, 96)),
            Throws.ArgumentException.With.Message.Contains("cannot be stacked"));
        Assert.That(() => LinearSlots.Add(block, Part(random, Kind.Reference, 8, 64), Part(random, Kind.Paper, 8, 64)),
            Throws.ArgumentException.With.Message.Contains("cannot be stacked"));
        Assert.That(() => LinearSlots.Add(block, Part(random, Kind.Reference, 8, 64), Part(random, Kind.Dense, 8, 64)),
            Throws.ArgumentException.With.Message.Contains("cannot be stacked"));
    }

    private static LinearWeights Part(Random random, Kind kind, int outFeatures, int inFeatures)
    {
        var weight = TestRandom.Floats(random, outFeatures * inFeatures);
        var bias = TestRandom.Floats(random, outFeatures);
        return kind switch
        {
            Kind.Reference => LinearWeights.Ternary(
                PackedTernaryMatrix.QuantizeReference(weight, outFeatures, inFeatures, TestRandom.Floats(random, outFeatures)), bias),
            Kind.Paper => LinearWeights.Ternary(PackedTernaryMatrix.QuantizePaper(weight, outFeatures, inFeatures), bias),
            _ => LinearWeights.Float(weight, outFeatures, inFeatures, bias),
        };
    }

    private static float[] Forward(CpuBackend backend, DecodeLinear linear, float[] input, int tokens, int inFeatures, int outFeatures) =>
        Run(backend, input, tokens, inFeatures, outFeatures, linear.Forward);

    /// <summary>The part's own product: its packed words and scales as they are, or its float weights.</summary>
    private static float[] Separate(CpuBackend backend, LinearWeights part, float[] input, int tokens)
    {
        using var bias = Upload(backend, part.Bias, [part.OutFeatures]);
        if (part.Packed is not { } packed)
        {
            using var weight = Upload(backend, part.Dense!, [part.OutFeatures, part.InFeatures]);
            return Run(backend, input, tokens, part.InFeatures, part.OutFeatures, (x, y) => backend.Matmul(x, weight, bias, y));
        }
        using var words = backend.Allocate(DType.UInt8, [packed.Rows, packed.WordsPerRow * 4]);
        backend.Upload<byte>(words, MemoryMarshal.AsBytes(packed.Words.AsSpan()));
        using var scales = Upload(backend, packed.Scales, [packed.Scales.Length]);
        return Run(backend, input, tokens, part.InFeatures, part.OutFeatures,
            (x, y) => backend.PackedTernaryMatmul(x, words, scales, bias, packed.Scheme, y));
    }

    private static Tensor Upload(CpuBackend backend, float[] values, TensorShape shape)
    {
        var tensor = backend.Allocate(DType.Float32, shape);
        backend.Upload<float>(tensor, values);
        return tensor;
    }

    private static float[] Run(CpuBackend backend, float[] input, int tokens, int inFeatures, int outFeatures, Action<Tensor, Tensor> product)
    {
        using var x = Upload(backend, input, [tokens, inFeatures]);
        using var y = backend.Allocate(DType.Float32, [tokens, outFeatures]);
        product(x, y);
        var output = new float[tokens * outFeatures];
        backend.Download<float>(y, output);
        return output;
    }
}
