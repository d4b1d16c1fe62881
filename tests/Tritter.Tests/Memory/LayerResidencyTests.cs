using Tritter.Core.Config;
using Tritter.Core.Memory;

namespace Tritter.Tests.Memory;

/// <summary>Which layers stream, how they form groups and buffers, and that the plan's decision is what the engine gets.</summary>
public sealed class LayerResidencyTests
{
    [TestCase(7, 1)]
    [TestCase(7, 2)]
    [TestCase(7, 3)]
    [TestCase(8, 4)]
    [TestCase(1, 5)]
    public void Groups_cover_every_streamed_block_once_in_order_and_alternate_buffers(int blocks, int groupSize)
    {
        var groups = new StreamGroups(blocks, groupSize);
        Assert.That(groups.Count, Is.EqualTo((int)Math.Ceiling(blocks / (double)groupSize)));
        Assert.That(groups.Buffers, Is.EqualTo(Math.Min(groups.Count, 2)));
        var seen = new List<int>();
        for (var g = 0; g < groups.Count; g++)
        {
            Assert.That(groups.BufferOf(g), Is.EqualTo(g % 2), "consecutive groups use different buffers");
            Assert.That(groups.BlocksIn(g), Is.InRange(1, groupSize));
            for (var j = 0; j < groups.BlocksIn(g); j++)
            {
                var block = groups.FirstBlock(g) + j;
                Assert.That((groups.GroupOf(block), groups.SlotOf(block)), Is.EqualTo((g, j)));
                seen.Add(block);
            }
        }
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, blocks)));
        Assert.That(() => groups.GroupOf(blocks), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => groups.BufferOf(groups.Count), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void The_first_layers_are_resident_and_the_rest_are_numbered_from_zero_as_streamed_blocks()
    {
        var residency = new LayerResidency(6, 2, 2, embeddingOnHost: true);
        Assert.That(Enumerable.Range(0, 6).Select(residency.StreamedIndex), Is.EqualTo(new[] { -1, -1, 0, 1, 2, 3 }));
        Assert.That((residency.StreamedLayers, residency.Groups.Count, residency.EmbeddingOnHost), Is.EqualTo((4, 2, true)));
        var all = LayerResidency.AllResident(6);
        Assert.That((all.StreamedLayers, all.Groups.Count, all.EmbeddingOnHost), Is.EqualTo((0, 0, false)));
        Assert.That(() => new LayerResidency(6, 7, 1, false), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new LayerResidency(6, 2, 0, false), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [TestCase(1.5, 4096, null)]
    [TestCase(1.5, 4096, 4)]
    [TestCase(3, 32768, 2)]
    [TestCase(16, 131072, null)]
    public void The_residency_is_the_plans_decision(double gib, int context, int? group)
    {
        var config = TritterPresets.Get("7B");
        var plan = InferenceMemoryPlanner.Plan(config, context, (long)(gib * ByteSize.GiB), layerGroupSize: group);
        var residency = LayerResidency.FromPlan(plan, config.NumLayers);
        Assert.That((residency.ResidentLayers, residency.StreamedLayers, residency.EmbeddingOnHost),
            Is.EqualTo((plan.ResidentLayers, plan.StreamedLayers, plan.EmbeddingOnHost)));
        if (plan.StreamedLayers > 0)
            Assert.That(residency.Groups.GroupSize, Is.EqualTo(plan.LayerGroupSize));
    }

    [Test]
    public void A_plan_that_does_not_fit_gives_no_residency()
    {
        var config = TritterPresets.Get("7B");
        var plan = InferenceMemoryPlanner.Plan(config, 4096, 600L << 20);
        Assert.That(plan.Fits, Is.False);
        Assert.That(() => LayerResidency.FromPlan(plan, config.NumLayers), Throws.ArgumentException.With.Message.Contains("does not fit"));
        Assert.That(() => LayerResidency.FromPlan(InferenceMemoryPlanner.Plan(config, 4096), 16), Throws.ArgumentException.With.Message.Contains("the model has 16"));
    }

    [TestCase("8589934592", 8589934592L)]
    [TestCase("8GiB", 8589934592L)]
    [TestCase("8 GB", 8589934592L)]
    [TestCase("1.5G", 1610612736L)]
    [TestCase("512MiB", 536870912L)]
    [TestCase("64m", 67108864L)]
    public void Sizes_read_as_bytes_or_binary_units(string text, long expected)
    {
        Assert.That(ByteSize.TryParse(text, out var bytes), Is.True);
        Assert.That(bytes, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("GiB")]
    [TestCase("-1GiB")]
    [TestCase("0")]
    [TestCase("1.5")]
    [TestCase("8TB")]
    [TestCase("eight")]
    public void Other_sizes_are_refused(string text) => Assert.That(ByteSize.TryParse(text, out _), Is.False);
}
