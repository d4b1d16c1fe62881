using Tritter.Core.Config;
using Tritter.Core.Memory;

namespace Tritter.Tests.Memory;

/// <summary>The planner's decisions: residency, streaming and the group size, within the budget.</summary>
public sealed class InferenceMemoryPlannerTests
{
    private static readonly TritterConfig SevenB = TritterPresets.Get("7B");

    [Test]
    public void Seven_b_with_a_128K_int4_cache_fits_16_GB_fully_resident()
    {
        var plan = InferenceMemoryPlanner.Plan(SevenB, 131072);
        Assert.That(plan.Fits, Is.True);
        Assert.That(plan.KvPrecision, Is.EqualTo(KvPrecision.Int4));
        Assert.That(plan.KvCacheBytes, Is.EqualTo(4_831_838_208L));
        Assert.That((plan.ResidentLayers, plan.StreamedLayers, plan.EmbeddingOnHost), Is.EqualTo((32, 0, false)));
        // 2.39 GiB of weights + 4.5 GiB of cache + the reserve and one token's scratch: 7.39 GiB.
        var memory = new InferenceMemory(SevenB);
        Assert.That(plan.DeviceBytes, Is.EqualTo(2_570_289_152L + 4_831_838_208L + InferenceMemoryPlanner.RuntimeReserveBytes + memory.DecodeActivationBytes()));
        Assert.That(plan.DeviceBytes, Is.LessThan(16 * ByteSize.GiB));
        Assert.That(string.Join("\n", plan.Explanation), Does.Contain("no streaming"));
    }

    [Test]
    public void Seven_b_with_a_128K_fp16_cache_does_not_fit_16_GB()
    {
        var plan = InferenceMemoryPlanner.Plan(SevenB, 131072, precision: KvPrecision.Fp16);
        Assert.That(plan.Fits, Is.False, "the fp16 cache alone is 16 GiB");
        Assert.That(plan.MaxContext, Is.LessThan(131072).And.GreaterThan(65536));
        Assert.That(string.Join("\n", plan.Explanation), Does.Contain("does not fit").And.Contain("longest context"));
    }

    [TestCase(3, 32768, null)]
    [TestCase(1.5, 4096, null)]
    [TestCase(1.5, 4096, 4)]
    public void A_small_budget_streams_layers_in_double_buffered_groups_within_it(double gib, int context, int? group)
    {
        var budget = (long)(gib * ByteSize.GiB);
        var plan = InferenceMemoryPlanner.Plan(SevenB, context, budget, layerGroupSize: group);
        var memory = new InferenceMemory(SevenB);
        Assert.That(plan.Fits, Is.True, string.Join("\n", plan.Explanation));
        Assert.That(plan.EmbeddingOnHost, Is.True, "the embedding table leaves the device before any layer does");
        Assert.That(plan.StreamedLayers, Is.Positive);
        Assert.That(plan.ResidentLayers + plan.StreamedLayers, Is.EqualTo(32));
        Assert.That(plan.LayerGroupSize, Is.EqualTo(group ?? 1));
        Assert.That(plan.DeviceBytes, Is.LessThanOrEqualTo(budget));
        var fixedBytes = InferenceMemoryPlanner.RuntimeReserveBytes + memory.KvCacheBytes(KvPrecision.Int4, context) + memory.DecodeActivationBytes()
            + memory.HeadBytes + memory.FinalNormBytes;
        Assert.That(plan.DeviceBytes, Is.EqualTo(fixedBytes + (plan.ResidentLayers + 2L * plan.LayerGroupSize) * memory.LayerBytes));
        Assert.That(plan.DeviceBytes + memory.LayerBytes, Is.GreaterThan(budget), "one more resident layer would not fit");
        Assert.That(plan.HostToDeviceBytesPerToken, Is.EqualTo(plan.StreamedLayers * memory.LayerBytes + 4096 * 4));
        Assert.That(string.Join("\n", plan.Explanation), Does.Contain("streamed"));
    }

    [Test]
    public void Embedding_alone_moves_to_the_host_when_that_is_enough()
    {
        var memory = new InferenceMemory(SevenB);
        var budget = InferenceMemoryPlanner.RuntimeReserveBytes + memory.KvCacheBytes(KvPrecision.Int4, 4096) + memory.DecodeActivationBytes()
            + memory.WeightBytes() - memory.EmbeddingBytes / 2;
        var plan = InferenceMemoryPlanner.Plan(SevenB, 4096, budget);
        Assert.That((plan.Fits, plan.EmbeddingOnHost, plan.StreamedLayers), Is.EqualTo((true, true, 0)));
    }

    [Test]
    public void A_budget_below_two_layer_buffers_does_not_fit_and_says_so()
    {
        var plan = InferenceMemoryPlanner.Plan(SevenB, 131072, 4 * ByteSize.GiB);
        Assert.That(plan.Fits, Is.False);
        Assert.That(string.Join("\n", plan.Explanation), Does.Contain("does not fit"));
        Assert.That(plan.MaxContext % 16, Is.Zero);
        Assert.That(InferenceMemoryPlanner.Plan(SevenB, (int)plan.MaxContext, 4 * ByteSize.GiB).Fits, Is.True, "the longest context it names fits");
    }
}
