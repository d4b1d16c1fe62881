using Tritter.Cpu;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Tests.Support;
using Tritter.Tests.Ternary;
using static Tritter.Tests.Ops.DecodeFusedRuns;

namespace Tritter.Tests.Ops;

/// <summary>
/// The CPU's fused decode ops against the sequences of ops they replace on the CPU: bit-equal, since each is defined as
/// its sequence (the GPU kernels are held to the same: <see cref="Tritter.Tests.GpuOps.DecodeFusedGpuTests"/>).
/// </summary>
public sealed class DecodeFusedTests
{
    /// <summary>(tokens, query heads, KV heads, head_dim): decode at each head_dim the cache supports, and prefill.</summary>
    public static readonly object[] AttentionShapes =
    [
        new object[] { 1, 4, 2, 32 }, new object[] { 1, 8, 8, 64 }, new object[] { 1, 32, 8, 128 },
        new object[] { 5, 4, 2, 32 }, new object[] { 3, 16, 2, 128 },
    ];

    [TestCaseSource(nameof(AttentionShapes))]
    public void Attention_inputs_give_the_bits_of_norm_rope_and_cache_write(int tokens, int heads, int kvHeads, int headDim)
    {
        var c = AttentionCase.Random(TestRandom.Create(), tokens, heads, kvHeads, headDim);
        using var cpu = new CpuBackend();
        var expected = AttentionInputs(cpu, c, fused: false);
        var actual = AttentionInputs(cpu, c, fused: true);
        Assert.Multiple(() =>
        {
            Assert.That(actual.Query, Is.EqualTo(expected.Query), "queries");
            Assert.That(actual.KeyData, Is.EqualTo(expected.KeyData), "key nibbles");
            Assert.That(actual.KeyScales, Is.EqualTo(expected.KeyScales), "key scales");
            Assert.That(actual.ValueData, Is.EqualTo(expected.ValueData), "value nibbles");
            Assert.That(actual.ValueScales, Is.EqualTo(expected.ValueScales), "value scales");
            Assert.That(actual.KeyScales.Count(s => s != Half.Zero), Is.EqualTo(tokens * kvHeads * headDim / 32), "every written key group has a scale");
        });
    }

    [TestCase(1, 7)]
    [TestCase(1, 192)]
    [TestCase(3, 1027)]
    public void Gated_squared_relu_gives_the_bits_of_squared_relu_then_multiply(int tokens, int inter)
    {
        var gateUp = TestRandom.Floats(TestRandom.Create(), tokens * 2 * inter, 3f);
        using var cpu = new CpuBackend();
        Assert.That(GatedSquaredRelu(cpu, gateUp, tokens, inter, fused: true), Is.EqualTo(GatedSquaredRelu(cpu, gateUp, tokens, inter, fused: false)));
    }

    [TestCase(1, 128)]
    [TestCase(4, 4096)]
    public void Add_layer_norm_gives_the_bits_of_add_then_layer_norm(int rows, int width)
    {
        var random = TestRandom.Create();
        var (a, b) = (TestRandom.Floats(random, rows * width, 2f), TestRandom.Floats(random, rows * width));
        var (weight, bias) = (TestRandom.Floats(random, width), TestRandom.Floats(random, width));
        using var cpu = new CpuBackend();
        Assert.That(AddLayerNorm(cpu, a, b, weight, bias, fused: true), Is.EqualTo(AddLayerNorm(cpu, a, b, weight, bias, fused: false)));
    }

    [TestCase(2, 4096)]
    [TestCase(3, 100)]
    public void Add_layer_norm_then_norm_gives_the_bits_of_add_then_two_layer_norms(int rows, int width)
    {
        var random = TestRandom.Create();
        var (a, b) = (TestRandom.Floats(random, rows * width, 2f), TestRandom.Floats(random, rows * width));
        var (weight, bias, nextWeight, nextBias) = (TestRandom.Floats(random, width), TestRandom.Floats(random, width), TestRandom.Floats(random, width),
            TestRandom.Floats(random, width));
        using var cpu = new CpuBackend();
        var fused = AddLayerNormThenNorm(cpu, a, b, weight, bias, nextWeight, nextBias, fused: true);
        var unfused = AddLayerNormThenNorm(cpu, a, b, weight, bias, nextWeight, nextBias, fused: false);
        Assert.That(fused.Output, Is.EqualTo(unfused.Output), "the post norm");
        Assert.That(fused.Next, Is.EqualTo(unfused.Next), "the next norm");
    }

    [TestCase(Epilogue.Residual, TernaryScheme.Reference, 1, 37, 200)]
    [TestCase(Epilogue.Residual, TernaryScheme.Paper, 3, 20, 300)]
    [TestCase(Epilogue.Gated, TernaryScheme.Paper, 2, 30, 257)]
    [TestCase(Epilogue.Gated, TernaryScheme.Reference, 1, 16, 64)]
    public void Fused_ternary_products_give_the_bits_of_their_sequences(Epilogue kind, TernaryScheme scheme, int rows, int outputs, int columns)
    {
        var c = TernaryCase.Random(TestRandom.Create(), kind, scheme, rows, outputs, columns);
        using var cpu = new CpuBackend();
        Assert.That(FusedTernary(cpu, c, fused: true), Is.EqualTo(FusedTernary(cpu, c, fused: false)));
    }

    [Test]
    public void Fused_ternary_shapes_that_do_not_fit_are_refused()
    {
        using var cpu = new CpuBackend();
        var (_, words) = PackedTernaryRuns.RandomCodes(TestRandom.Create(), 5, 20);
        using var packed = PackedTernaryRuns.Packed(cpu, words, 5, 20);
        using var scale = HostTensors.Floats(cpu, new float[5], [5]);
        using var input = HostTensors.Floats(cpu, new float[20], [1, 20]);
        using var output = cpu.Allocate(DType.Float32, [1, 5]);
        using var half = cpu.Allocate(DType.Float32, [1, 2]);
        using var residual = HostTensors.Floats(cpu, new float[3], [1, 3]);
        Assert.Multiple(() =>
        {
            Assert.That(() => cpu.GatedTernaryMatmul(input, packed, scale, null, TernaryScheme.Paper, half),
                Throws.ArgumentException.With.Message.Contains("gate|up pairs"));
            Assert.That(() => cpu.TernaryMatmulAdd(input, packed, scale, null, TernaryScheme.Paper, residual, output),
                Throws.ArgumentException.With.Message.Contains("residual"));
        });
    }

    [Test]
    public void Shapes_that_do_not_fit_are_refused()
    {
        var c = AttentionCase.Random(TestRandom.Create(), 2, 4, 2, 32);
        using var cpu = new CpuBackend();
        Assert.That(() => AttentionInputs(cpu, c with { FirstSlot = c.Capacity - 1 }, fused: true),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("capacity"));
        using var gateUp = HostTensors.Floats(cpu, new float[14], [2, 7]);
        using var output = HostTensors.Floats(cpu, new float[7], [1, 7]);
        Assert.That(() => cpu.GatedSquaredRelu(gateUp, output), Throws.ArgumentException.With.Message.Contains("2 x inter"));
    }
}
