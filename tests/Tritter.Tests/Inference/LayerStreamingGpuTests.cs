using Tritter.Core.Memory;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Inference;
using Tritter.Inference.Sampling;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>
/// Layer streaming on the GPU against the same model fully resident on the same GPU: the same kernels read the same
/// bytes, only from another address, so the logits must be bit-identical and the tokens identical under a seed. The
/// budgets are sized with the memory planner so that it streams all layers but one (group sizes 1 and 2, an odd number
/// of groups, so that a step's first group reuses the buffer its last one used), or are set by hand (an even number).
/// </summary>
public sealed class LayerStreamingGpuTests : GpuFixture
{
    private const int Layers = 6;
    private const int Capacity = 128;

    [TestCase(1)]
    [TestCase(2)]
    public async Task A_budget_that_streams_most_layers_gives_the_tokens_and_logits_of_a_resident_model(int groupSize)
    {
        var config = DecodeFixtures.Config(useBitnet: true) with { NumLayers = Layers };
        var memory = new InferenceMemory(config);
        var budget = InferenceMemoryPlanner.RuntimeReserveBytes + memory.KvCacheBytes(KvPrecision.Int4, Capacity) + memory.DecodeActivationBytes()
            + memory.HeadBytes + memory.FinalNormBytes + (1 + 2L * groupSize) * memory.LayerBytes;
        var plan = InferenceMemoryPlanner.Plan(config, Capacity, budget, layerGroupSize: groupSize);
        Assert.That((plan.Fits, plan.ResidentLayers, plan.StreamedLayers, plan.EmbeddingOnHost), Is.EqualTo((true, 1, Layers - 1, true)), string.Join("\n", plan.Explanation));
        await Compare(config, LayerResidency.FromPlan(plan, Layers));
    }

    [TestCase(0, 3)]
    [TestCase(2, 2)]
    [TestCase(0, 1)]
    public async Task Streaming_with_an_even_number_of_groups_gives_the_same_tokens_and_logits(int resident, int groupSize)
    {
        var config = DecodeFixtures.Config(useBitnet: true) with { NumLayers = Layers };
        await Compare(config, new LayerResidency(Layers, resident, groupSize, embeddingOnHost: false));
    }

    private async Task Compare(Core.Config.TritterConfig config, LayerResidency residency)
    {
        var random = TestRandom.Create();
        using var host = new CpuBackend();
        using var model = new TritterModel(host, config, seed: random.Next());
        using var resident = DecodeModel.FromModel(model, Gpu);
        using var streamed = DecodeModel.FromModel(model, Gpu, residency);
        Assert.That(streamed.WeightDeviceBytes, Is.LessThanOrEqualTo(resident.WeightDeviceBytes), "two buffers of a group hold at most the layers streamed");
        TestContext.Out.WriteLine($"{residency.ResidentLayers} resident, {residency.StreamedLayers} streamed in {residency.Groups.Count} groups of {residency.Groups.GroupSize}: " +
            $"{streamed.WeightDeviceBytes} device bytes of weights against {resident.WeightDeviceBytes}");

        var tokens = DecodeFixtures.Tokens(random, 60, config.VocabSize);
        Assert.That(Logits(streamed, tokens), Is.EqualTo(Logits(resident, tokens)), "logits step by step");

        var prompt = tokens[..11];
        foreach (var sampling in new[] { new SamplingOptions(Temperature: 0), new SamplingOptions(Temperature: 1.0, TopK: 20, TopP: 0.9, Seed: random.Next()) })
        {
            var options = new GenerationOptions(50, sampling);
            var expected = await DecodeFixtures.Collect(new KvCacheGenerator(resident, Capacity, prefillChunk: 8).GenerateAsync(prompt, options));
            var actual = await DecodeFixtures.Collect(new KvCacheGenerator(streamed, Capacity, prefillChunk: 8).GenerateAsync(prompt, options));
            Assert.That(actual, Is.EqualTo(expected), $"tokens with temperature {sampling.Temperature}");
        }
    }

    /// <summary>The logits after a prefill of 13 tokens (chunks of 8 and 4, then the last) and after each following token, one by one.</summary>
    private static List<float[]> Logits(DecodeModel model, int[] tokens)
    {
        using var session = new DecodeSession(model, Capacity, sinkTokens: 4, prefillChunk: 8);
        var all = new List<float[]>();
        session.Append(tokens.AsSpan(0, 13));
        for (var position = 13; ; position++)
        {
            var logits = new float[model.Config.VocabSize];
            session.ReadLogits(logits);
            all.Add(logits);
            if (position == tokens.Length)
                return all;
            session.Append(tokens.AsSpan(position, 1));
        }
    }
}
