using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Ops;

/// <summary>Embedding gather and scatter-add.</summary>
public sealed class EmbeddingTests
{
    [TestCase(1, 9, 3)]
    [TestCase(37, 11, 13)]
    public void Forward_gathers_and_backward_scatter_adds(int count, int vocab, int width)
    {
        var random = TestRandom.Create();
        var tokens = Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
        tokens[0] = 0;
        var table = TestRandom.Floats(random, vocab * width);
        var dy = TestRandom.Floats(random, count * width);
        using var backend = new CpuBackend();
        using var ids = Ints(backend, tokens, [count]);
        using var weights = Floats(backend, table, [vocab, width]);
        using var output = backend.Allocate(DType.Float32, [count, width]);
        backend.Embedding(ids, weights, output);
        var y = Read(backend, output);
        for (var n = 0; n < count; n++)
            Assert.That(y.AsSpan(n * width, width).ToArray(), Is.EqualTo(table.AsSpan(tokens[n] * width, width).ToArray()));

        using var outputGradient = Floats(backend, dy, [count, width]);
        using var tableGradient = backend.Allocate(DType.Float32, [vocab, width]);
        backend.EmbeddingBackward(ids, outputGradient, tableGradient);
        var expected = new double[vocab * width];
        for (var n = 0; n < count; n++)
            for (var i = 0; tokens[n] != 0 && i < width; i++)
                expected[tokens[n] * width + i] += dy[n * width + i];
        // Sums of at most count float32 terms of magnitude <= 1.
        Assert.That(Read(backend, tableGradient), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void Out_of_range_token_is_rejected()
    {
        using var backend = new CpuBackend();
        using var ids = Ints(backend, [1, 5], [2]);
        using var table = backend.Allocate(DType.Float32, [4, 2]);
        using var output = backend.Allocate(DType.Float32, [2, 2]);
        Assert.That(() => backend.Embedding(ids, table, output), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("position 1"));
    }
}
