namespace Tritter.Core.Memory;

/// <summary>
/// Where a model's parts live while it generates within a device-memory budget, and why: produced by
/// <see cref="InferenceMemoryPlanner.Plan"/>.
/// </summary>
public sealed record MemoryPlan
{
    /// <summary>Whether the plan fits the budget at all.</summary>
    public required bool Fits { get; init; }

    /// <summary>Device memory the plan may use.</summary>
    public required long BudgetBytes { get; init; }

    /// <summary>Device memory the plan uses.</summary>
    public required long DeviceBytes { get; init; }

    /// <summary>Positions the KV-cache holds (its capacity, a multiple of 16).</summary>
    public required long KvCapacity { get; init; }

    /// <summary>How the KV-cache stores keys and values.</summary>
    public required KvPrecision KvPrecision { get; init; }

    /// <summary>Bytes of the KV-cache.</summary>
    public required long KvCacheBytes { get; init; }

    /// <summary>Whether the embedding table stays in host memory (a decode step copies in one row per token).</summary>
    public required bool EmbeddingOnHost { get; init; }

    /// <summary>Transformer blocks kept in device memory.</summary>
    public required int ResidentLayers { get; init; }

    /// <summary>Transformer blocks kept in pinned host memory and copied in group by group each step (0: no streaming).</summary>
    public required int StreamedLayers { get; init; }

    /// <summary>Blocks per streamed copy; two groups are in device memory at once (double buffering). 0 without streaming.</summary>
    public required int LayerGroupSize { get; init; }

    /// <summary>The largest group size the budget allows with no block resident (0 without streaming).</summary>
    public required int LargestLayerGroupSize { get; init; }

    /// <summary>Bytes copied from host to device per decoded token (streamed layers and the embedding row).</summary>
    public required long HostToDeviceBytesPerToken { get; init; }

    /// <summary>The longest context whose cache fits the budget with the smallest footprint of everything else.</summary>
    public required long MaxContext { get; init; }

    /// <summary>The decisions in words, one line each.</summary>
    public required IReadOnlyList<string> Explanation { get; init; }
}
