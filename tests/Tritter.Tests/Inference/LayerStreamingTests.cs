using Tritter.Core.Memory;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Inference;
using Tritter.Inference.Sampling;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>
/// Residency on the CPU backend: the embedding table kept on the host gives the same tokens, and layer streaming, which
/// only copies into GPU memory, is refused with the reason. (The streamed GPU path: <see cref="LayerStreamingGpuTests"/>.)
/// </summary>
public sealed class LayerStreamingTests
{
    [Test]
    public async Task A_host_embedding_table_gives_the_tokens_of_a_resident_one()
    {
        var random = TestRandom.Create();
        var config = DecodeFixtures.Config(useBitnet: true) with { NumLayers = 3 };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        using var resident = DecodeModel.FromModel(model);
        using var hosted = DecodeModel.FromModel(model, residency: new LayerResidency(config.NumLayers, config.NumLayers, 0, embeddingOnHost: true));
        var options = new GenerationOptions(40, new SamplingOptions(Temperature: 1.0, TopK: 20, Seed: random.Next()));
        var prompt = DecodeFixtures.Tokens(random, 9, config.VocabSize);
        var expected = await DecodeFixtures.Collect(new KvCacheGenerator(resident, 64, prefillChunk: 4).GenerateAsync(prompt, options));
        var actual = await DecodeFixtures.Collect(new KvCacheGenerator(hosted, 64, prefillChunk: 4).GenerateAsync(prompt, options));
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(hosted.WeightDeviceBytes, Is.EqualTo(resident.WeightDeviceBytes - (long)config.VocabSize * config.HiddenSize * sizeof(float)));
        Assert.That(hosted.EmbeddingTable().ToArray(), Is.EqualTo(resident.EmbeddingTable().ToArray()));
    }

    /// <summary>
    /// The planner sizes what the engine allocates: each layer's block and the head's block are the planner's bytes plus
    /// at most one alignment gap per tensor (20 per layer: 4 projections of codes, scales and bias, q|k|v and gate|up each
    /// stacked into one, and 4 norms of weight and bias; 4 in the head's block), so <c>tritter info</c> and
    /// <c>tritter generate</c> agree on what fits.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void The_weights_take_what_the_planner_sizes_up_to_alignment(bool useBitnet)
    {
        var config = DecodeFixtures.Config(useBitnet) with { NumLayers = 3 };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 5);
        using var decoder = DecodeModel.FromModel(model);
        var planned = new InferenceMemory(config).WeightBytes();
        Assert.That(decoder.WeightDeviceBytes, Is.InRange(planned, planned + 256L * (20 * config.NumLayers + 4)));
    }

    [Test]
    public void Streaming_layers_on_the_cpu_backend_is_refused_with_the_reason()
    {
        var config = DecodeFixtures.Config(useBitnet: true) with { NumLayers = 4 };
        using var backend = new CpuBackend();
        Assert.That(() => DecodeModel.RandomTernary(backend, config, seed: 1, new LayerResidency(4, 1, 1, embeddingOnHost: true)),
            Throws.ArgumentException.With.Message.Contains("needs the CUDA backend"));
    }
}
