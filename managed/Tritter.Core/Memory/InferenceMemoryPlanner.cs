using System.Globalization;
using Tritter.Core.Config;

namespace Tritter.Core.Memory;

/// <summary>
/// Decides, for a model, a context length and a device-memory budget, what stays in device memory: the KV-cache for
/// the whole context and the decode scratch always do (every step reads all of them); then the output head and the
/// norms; then as many transformer blocks as fit. What does not fit goes to pinned host memory in this order: first
/// the embedding table (a step needs one row of it), then blocks, which are streamed in groups into two device
/// buffers (one being computed on while the next is copied).
/// </summary>
public static class InferenceMemoryPlanner
{
    /// <summary>The budget <c>tritter info</c> assumes: a 16 GB card such as an RTX 5080.</summary>
    public const long DefaultBudgetBytes = 16 * ByteSize.GiB;

    /// <summary>
    /// Device memory held back from the budget for what no tensor accounts for: the CUDA context, the loaded kernel
    /// modules and allocator rounding (a few hundred MiB on current drivers).
    /// </summary>
    public const long RuntimeReserveBytes = 512L << 20;

    /// <summary>
    /// Plans <paramref name="config"/> with a cache of <paramref name="context"/> positions in
    /// <paramref name="budgetBytes"/> of device memory. The cache is INT4 where head_dim allows it, else fp16 (or
    /// <paramref name="precision"/> when given). <paramref name="layerGroupSize"/>, when given, is the streaming group
    /// size to use; otherwise 1, which keeps the most blocks resident.
    /// </summary>
    public static MemoryPlan Plan(TritterConfig config, int context, long budgetBytes = DefaultBudgetBytes,
        KvPrecision? precision = null, int? layerGroupSize = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        if (layerGroupSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(layerGroupSize), layerGroupSize, "the layer group size must be positive");
        var memory = new InferenceMemory(config);
        var kvPrecision = precision ?? (memory.SupportsInt4 ? KvPrecision.Int4 : KvPrecision.Fp16);
        var capacity = InferenceMemory.KvCapacity(context);
        var kvBytes = memory.KvCacheBytes(kvPrecision, context);
        var activations = memory.DecodeActivationBytes();
        var layer = memory.LayerBytes;
        var layers = config.NumLayers;
        var lines = new List<string>
        {
            Invariant($"budget {ByteSize.Format(budgetBytes)}, of which {ByteSize.Format(RuntimeReserveBytes)} is held back for the CUDA context, kernels and allocator slack"),
            Invariant($"KV-cache: {capacity:N0} positions in {(kvPrecision == KvPrecision.Int4 ? "INT4" : "fp16")} ({ByteSize.Format(memory.KvBytesPerToken(kvPrecision))} per position over {layers} layers): {ByteSize.Format(kvBytes)}, resident (every step reads all of it)"),
        };
        // Always on the device: reserve, cache, scratch, head and the final norm.
        var fixedBytes = RuntimeReserveBytes + kvBytes + activations + memory.HeadBytes + memory.FinalNormBytes;
        var everything = fixedBytes + memory.EmbeddingBytes + layers * layer;
        // The smallest footprint: embedding on the host, nothing resident but two single-block buffers.
        var minimumWithoutCache = RuntimeReserveBytes + activations + memory.HeadBytes + memory.FinalNormBytes + Math.Min(layers, 2) * layer;
        var maxContext = Math.Max(0, (budgetBytes - minimumWithoutCache) / memory.KvBytesPerToken(kvPrecision)) / 16 * 16;

        MemoryPlan Result(bool fits, long device, bool embeddingOnHost, int resident, int group, int largest) => new()
        {
            Fits = fits,
            BudgetBytes = budgetBytes,
            DeviceBytes = device,
            KvCapacity = capacity,
            KvPrecision = kvPrecision,
            KvCacheBytes = kvBytes,
            EmbeddingOnHost = embeddingOnHost,
            ResidentLayers = resident,
            StreamedLayers = layers - resident,
            LayerGroupSize = group,
            LargestLayerGroupSize = largest,
            HostToDeviceBytesPerToken = (layers - resident) * layer + (embeddingOnHost ? config.HiddenSize * sizeof(float) : 0),
            MaxContext = maxContext,
            Explanation = lines,
        };

        if (everything <= budgetBytes)
        {
            lines.Add(Invariant($"weights: all {layers} layers ({ByteSize.Format(layers * layer)}), the head ({ByteSize.Format(memory.HeadBytes)}) and the embedding table ({ByteSize.Format(memory.EmbeddingBytes)}) resident"));
            lines.Add(Invariant($"total {ByteSize.Format(everything)} of {ByteSize.Format(budgetBytes)}: everything resident, no streaming ({ByteSize.Format(budgetBytes - everything)} free)"));
            return Result(true, everything, false, layers, 0, 0);
        }
        var available = budgetBytes - fixedBytes;
        if (available >= layers * layer)
        {
            lines.Add(Invariant($"the embedding table ({ByteSize.Format(memory.EmbeddingBytes)}) does not fit beside the rest: it stays in pinned host memory and each step copies in one row"));
            lines.Add(Invariant($"weights: all {layers} layers ({ByteSize.Format(layers * layer)}) and the head resident, no streaming"));
            var device = fixedBytes + layers * layer;
            lines.Add(Invariant($"total {ByteSize.Format(device)} of {ByteSize.Format(budgetBytes)}"));
            return Result(true, device, true, layers, 0, 0);
        }
        var slots = available < 0 ? 0 : (int)Math.Min(layers, available / layer);
        lines.Add(Invariant($"the embedding table stays in pinned host memory; {ByteSize.Format(Math.Max(0, available))} is left for {layers} layers of {ByteSize.Format(layer)} each ({ByteSize.Format(layers * layer)}): layers must be streamed"));
        var group = layerGroupSize ?? 1;
        if (slots < 2 * group)
        {
            lines.Add(Invariant($"does not fit: streaming needs two buffers of {group} layer(s) ({ByteSize.Format(2 * group * layer)}) but only {slots} layer(s) fit; the longest context that fits is {maxContext:N0} positions"));
            return Result(false, fixedBytes + 2L * group * layer, true, 0, group, slots / 2);
        }
        var resident = slots - 2 * group;
        var streamed = layers - resident;
        var used = fixedBytes + (resident + 2L * group) * layer;
        lines.Add(Invariant($"streaming: {resident} layers resident, {streamed} streamed from pinned host memory in groups of {group} into two device buffers (largest group that fits with no layer resident: {slots / 2})"));
        lines.Add(Invariant($"each decoded token copies {ByteSize.Format(streamed * layer)} from host to device; that copy, not the device's memory bandwidth, bounds tokens/s"));
        lines.Add(Invariant($"total {ByteSize.Format(used)} of {ByteSize.Format(budgetBytes)}"));
        return Result(true, used, true, resident, group, slots / 2);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
