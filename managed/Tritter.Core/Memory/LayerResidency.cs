namespace Tritter.Core.Memory;

/// <summary>
/// Where a model's transformer blocks live while it generates: the first <see cref="ResidentLayers"/> in device memory,
/// the rest in pinned host memory, copied in each step group by group (<see cref="Groups"/>) into two device buffers
/// that alternate, so that one group is copied while the one before it computes. It is the part of a
/// <see cref="MemoryPlan"/> that the decode engine acts on, so that <c>tritter info</c> and <c>tritter generate</c>
/// make the same decision.
/// </summary>
public sealed record LayerResidency
{
    /// <summary>
    /// <paramref name="residentLayers"/> of <paramref name="layers"/> blocks resident, the others streamed in groups of
    /// <paramref name="groupSize"/>; <paramref name="embeddingOnHost"/> keeps the embedding table in host memory.
    /// </summary>
    public LayerResidency(int layers, int residentLayers, int groupSize, bool embeddingOnHost)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegative(residentLayers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(residentLayers, layers);
        if (residentLayers < layers)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        Layers = layers;
        ResidentLayers = residentLayers;
        Groups = new StreamGroups(layers - residentLayers, residentLayers < layers ? groupSize : 1);
        EmbeddingOnHost = embeddingOnHost;
    }

    /// <summary>Every block and the embedding table in device memory.</summary>
    public static LayerResidency AllResident(int layers) => new(layers, layers, 0, embeddingOnHost: false);

    /// <summary>What <paramref name="plan"/> decided for a model of <paramref name="layers"/> blocks; the plan must fit.</summary>
    public static LayerResidency FromPlan(MemoryPlan plan, int layers)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.Fits)
            throw new ArgumentException($"the memory plan does not fit its budget: {string.Join("; ", plan.Explanation)}", nameof(plan));
        if (plan.ResidentLayers + plan.StreamedLayers != layers)
            throw new ArgumentException($"the plan places {plan.ResidentLayers + plan.StreamedLayers} layers, the model has {layers}", nameof(plan));
        return new LayerResidency(layers, plan.ResidentLayers, plan.LayerGroupSize, plan.EmbeddingOnHost);
    }

    /// <summary>Transformer blocks in all.</summary>
    public int Layers { get; }

    /// <summary>Blocks kept in device memory: the first ones, so that their compute hides the first group's copy.</summary>
    public int ResidentLayers { get; }

    /// <summary>Blocks streamed from host memory.</summary>
    public int StreamedLayers => Layers - ResidentLayers;

    /// <summary>How the streamed blocks (numbered from 0 at block <see cref="ResidentLayers"/>) form groups and buffers.</summary>
    public StreamGroups Groups { get; }

    /// <summary>Whether the embedding table stays in host memory (a step copies in one row per token).</summary>
    public bool EmbeddingOnHost { get; }

    /// <summary>The streamed index of block <paramref name="layer"/>, or -1 where it is resident.</summary>
    public int StreamedIndex(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layers);
        return layer < ResidentLayers ? -1 : layer - ResidentLayers;
    }
}

/// <summary>
/// <see cref="Blocks"/> blocks streamed in groups of <see cref="GroupSize"/> consecutive ones (the last may be shorter);
/// group <c>g</c> goes to device buffer <c>g % 2</c>, each block to the same place in its buffer every step, so a block's
/// device address never changes and one copy moves a whole group (its blocks are contiguous in host memory too).
/// </summary>
public readonly record struct StreamGroups
{
    /// <summary>Groups <paramref name="blocks"/> blocks by <paramref name="groupSize"/>.</summary>
    public StreamGroups(int blocks, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        Blocks = blocks;
        GroupSize = groupSize;
    }

    /// <summary>Blocks streamed.</summary>
    public int Blocks { get; }

    /// <summary>Blocks per group, and per device buffer.</summary>
    public int GroupSize { get; }

    /// <summary>Groups per step.</summary>
    public int Count => (Blocks + GroupSize - 1) / GroupSize;

    /// <summary>Device buffers in use: two where there is more than one group (double buffering), else one.</summary>
    public int Buffers => Math.Min(Count, 2);

    /// <summary>The group block <paramref name="block"/> belongs to.</summary>
    public int GroupOf(int block) => CheckBlock(block) / GroupSize;

    /// <summary>The block's place in its group and buffer.</summary>
    public int SlotOf(int block) => CheckBlock(block) % GroupSize;

    /// <summary>The buffer group <paramref name="group"/> is copied into.</summary>
    public int BufferOf(int group) => CheckGroup(group) % 2;

    /// <summary>The first block of group <paramref name="group"/>.</summary>
    public int FirstBlock(int group) => CheckGroup(group) * GroupSize;

    /// <summary>Blocks in group <paramref name="group"/>.</summary>
    public int BlocksIn(int group) => Math.Min(GroupSize, Blocks - FirstBlock(group));

    private int CheckBlock(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, Blocks);
        return block;
    }

    private int CheckGroup(int group)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(group);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(group, Count);
        return group;
    }
}
