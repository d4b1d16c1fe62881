using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.GpuOps;

/// <summary>The CUDA embedding gather and scatter-add against the CPU backend.</summary>
public sealed class EmbeddingGpuTests : GpuFixture
{
    // Widths: odd (scalar path) and a multiple of 4 (float4 path); token counts from one to past the backward kernel's
    // 1024 staged ids, drawn from a small vocabulary range so ids repeat and padding (id 0) occurs.
    private static readonly object[] Cases =
    [
        new object[] { 1, 17 }, new object[] { 7, 17 }, new object[] { 1023, 17 },
        new object[] { 1, 768 }, new object[] { 7, 768 }, new object[] { 1023, 768 },
        new object[] { 4100, 17 }, new object[] { 4100, 768 },
    ];

    private const int Vocab = 1000;

    // The gather copies bits. The scatter adds each id's rows in token order with one IEEE add per row, as the CPU does,
    // so the table gradient must be bit-equal, and equal across two GPU runs.
    [TestCaseSource(nameof(Cases))]
    public void Forward_and_backward_are_bit_equal_to_cpu(int tokens, int width)
    {
        var random = TestRandom.Create();
        var ids = Enumerable.Range(0, tokens).Select(_ => random.Next(0, 40) == 0 ? 0 : random.Next(0, Math.Min(Vocab, tokens / 2 + 2))).ToArray();
        var table = TestRandom.Floats(random, Vocab * width);
        var initialGradient = TestRandom.Floats(random, Vocab * width);
        var outputGradient = TestRandom.Floats(random, tokens * width);
        using var cpu = new CpuBackend();
        var (cpuOutput, cpuGradient) = Run(cpu, ids, table, initialGradient, outputGradient, width);
        var (gpuOutput, gpuGradient) = Run(Gpu, ids, table, initialGradient, outputGradient, width);
        var (_, gpuAgain) = Run(Gpu, ids, table, initialGradient, outputGradient, width);
        GpuCompare.Ulps(cpuOutput, gpuOutput, 0, "output");
        GpuCompare.Ulps(cpuGradient, gpuGradient, 0, "table gradient");
        GpuCompare.BitEqual(gpuGradient, gpuAgain, "table gradient");
    }

    // The kernels check the ids themselves and the error surfaces at the next synchronisation, naming the id, its
    // position and the vocabulary; it is raised once.
    [Test]
    public void Ids_outside_the_vocabulary_are_rejected()
    {
        using var tokens = HostTensors.Ints(Gpu, [1, Vocab], [2]);
        using var table = Gpu.Allocate(DType.Float32, [Vocab, 4]);
        using var output = Gpu.Allocate(DType.Float32, [2, 4]);
        Gpu.Embedding(tokens, table, output);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Gpu.Synchronize());
        Assert.That(error!.Message, Does.Contain($"token id {Vocab} at position 1 is outside the vocabulary of {Vocab}"));
        Assert.That(error.ParamName, Is.EqualTo("tokens"));
        Assert.DoesNotThrow(() => Gpu.Synchronize());
        Gpu.EmbeddingBackward(tokens, output, table);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => Gpu.Synchronize());
        Assert.That(error!.Message, Does.Contain($"token id {Vocab} at position 1 is outside the vocabulary of {Vocab}"));
        Assert.DoesNotThrow(() => Gpu.Synchronize());
    }

    [Test]
    public void A_negative_id_is_reported_at_the_next_download()
    {
        using var tokens = HostTensors.Ints(Gpu, [-3], [1]);
        using var table = Gpu.Allocate(DType.Float32, [Vocab, 4]);
        using var output = Gpu.Allocate(DType.Float32, [1, 4]);
        Gpu.Embedding(tokens, table, output);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => HostTensors.Read(Gpu, output));
        Assert.That(error!.Message, Does.Contain($"token id -3 at position 0 is outside the vocabulary of {Vocab}"));
    }

    private static (float[] Output, float[] TableGradient) Run<TBackend>(TBackend backend, int[] ids, float[] table, float[] initialGradient,
        float[] outputGradient, int width) where TBackend : ITensorStore, IEmbeddingOps
    {
        using var tokens = HostTensors.Ints(backend, ids, [ids.Length]);
        using var weights = HostTensors.Floats(backend, table, [Vocab, width]);
        using var gradient = HostTensors.Floats(backend, initialGradient, [Vocab, width]);
        using var dy = HostTensors.Floats(backend, outputGradient, [ids.Length, width]);
        using var output = backend.Allocate(DType.Float32, [ids.Length, width]);
        backend.Embedding(tokens, weights, output);
        backend.EmbeddingBackward(tokens, dy, gradient);
        return (HostTensors.Read(backend, output), HostTensors.Read(backend, gradient));
    }
}
