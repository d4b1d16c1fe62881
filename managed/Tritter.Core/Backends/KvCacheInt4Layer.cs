using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// One layer's INT4 KV-cache in structure-of-arrays layout (<c>docs/formats/kv-cache-int4.md</c>): for keys and for
/// values, packed nibbles <c>[kvHeads, capacity, headDim/2]</c> (UInt8) and one fp16 scale per group of
/// <see cref="GroupSize"/> values <c>[kvHeads, capacity, headDim/32]</c> (Float16). Owns its four tensors.
/// </summary>
public sealed class KvCacheInt4Layer : IDisposable
{
    /// <summary>Values that share one scale, along head_dim.</summary>
    public const int GroupSize = 32;

    /// <summary>
    /// Capacities are multiples of this, so that every KV head's plane of scales starts 16-byte aligned for the GPU's
    /// vector loads.
    /// </summary>
    public const int CapacityAlignment = 16;

    private KvCacheInt4Layer(Tensor keyData, Tensor keyScales, Tensor valueData, Tensor valueScales, int kvHeads, int capacity, int headDim)
    {
        KeyData = keyData;
        KeyScales = keyScales;
        ValueData = valueData;
        ValueScales = valueScales;
        KvHeads = kvHeads;
        Capacity = capacity;
        HeadDim = headDim;
    }

    /// <summary>Packed key nibbles, <c>[kvHeads, capacity, headDim/2]</c>.</summary>
    public Tensor KeyData { get; }

    /// <summary>Key scales, <c>[kvHeads, capacity, headDim/32]</c>.</summary>
    public Tensor KeyScales { get; }

    /// <summary>Packed value nibbles, <c>[kvHeads, capacity, headDim/2]</c>.</summary>
    public Tensor ValueData { get; }

    /// <summary>Value scales, <c>[kvHeads, capacity, headDim/32]</c>.</summary>
    public Tensor ValueScales { get; }

    /// <summary>Number of KV heads.</summary>
    public int KvHeads { get; }

    /// <summary>Slots per KV head.</summary>
    public int Capacity { get; }

    /// <summary>Values per head (a multiple of 32).</summary>
    public int HeadDim { get; }

    /// <summary>Bytes of data and scales per (slot, KV head), keys and values together.</summary>
    public int BytesPerSlotAndHead => 2 * (HeadDim / 2 + HeadDim / GroupSize * 2);

    /// <summary>Allocates a layer on <paramref name="store"/>; the contents are undefined until written.</summary>
    public static KvCacheInt4Layer Allocate(ITensorStore store, int kvHeads, int capacity, int headDim)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (headDim <= 0 || headDim % GroupSize != 0)
            throw new ArgumentException($"headDim {headDim} must be a positive multiple of {GroupSize}", nameof(headDim));
        if (capacity % CapacityAlignment != 0)
            throw new ArgumentException($"capacity {capacity} must be a multiple of {CapacityAlignment}", nameof(capacity));
        var tensors = new List<Tensor>(4);
        try
        {
            tensors.Add(store.Allocate(DType.UInt8, [kvHeads, capacity, headDim / 2]));
            tensors.Add(store.Allocate(DType.Float16, [kvHeads, capacity, headDim / GroupSize]));
            tensors.Add(store.Allocate(DType.UInt8, [kvHeads, capacity, headDim / 2]));
            tensors.Add(store.Allocate(DType.Float16, [kvHeads, capacity, headDim / GroupSize]));
        }
        catch
        {
            foreach (var t in tensors)
                t.Dispose();
            throw;
        }
        return new KvCacheInt4Layer(tensors[0], tensors[1], tensors[2], tensors[3], kvHeads, capacity, headDim);
    }

    /// <summary>Checks the arguments of <see cref="IKvCacheOps.KvCacheWrite"/> the same way on every backend.</summary>
    public void CheckWrite(Tensor keys, Tensor values, int firstSlot)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        TensorChecks.RequireType(keys, DType.Float32, nameof(keys));
        TensorChecks.RequireType(values, DType.Float32, nameof(values));
        if (keys.Shape.Rank != 3 || keys.Shape[1] != KvHeads || keys.Shape[2] != HeadDim)
            throw new ArgumentException($"keys {keys} must be [tokens, {KvHeads}, {HeadDim}]", nameof(keys));
        if (!values.Shape.Equals(keys.Shape))
            throw new ArgumentException($"values {values} must have the shape of keys {keys}", nameof(values));
        var tokens = keys.Shape[0];
        if (firstSlot < 0 || (long)firstSlot + tokens > Capacity)
            throw new ArgumentOutOfRangeException(nameof(firstSlot),
                $"slots [{firstSlot}, {(long)firstSlot + tokens}) do not fit the cache's capacity of {Capacity}");
    }

    /// <summary>Checks the arguments of <see cref="IKvCacheOps.DecodeAttention"/>; returns the query heads per KV head.</summary>
    public int CheckDecodeAttention(Tensor query, int length, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(output);
        TensorChecks.RequireType(query, DType.Float32, nameof(query));
        TensorChecks.RequireType(output, DType.Float32, nameof(output));
        if (query.Shape.Rank != 2 || query.Shape[1] != HeadDim || query.Shape[0] % KvHeads != 0)
            throw new ArgumentException($"query {query} must be [numHeads, {HeadDim}] with numHeads a multiple of {KvHeads} KV heads", nameof(query));
        if (!output.Shape.Equals(query.Shape))
            throw new ArgumentException($"output {output} must have the shape of query {query}", nameof(output));
        if (length <= 0 || length > Capacity)
            throw new ArgumentOutOfRangeException(nameof(length), $"length {length} must be in [1, {Capacity}] (the cache's capacity)");
        return query.Shape[0] / KvHeads;
    }

    /// <summary>
    /// Checks the arguments of <see cref="IKvCacheOps.PrefillAttention"/>; returns the number of tokens and the query
    /// heads per KV head.
    /// </summary>
    public (int Tokens, int Group) CheckPrefillAttention(Tensor queries, int firstLength, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(output);
        TensorChecks.RequireType(queries, DType.Float32, nameof(queries));
        TensorChecks.RequireType(output, DType.Float32, nameof(output));
        if (queries.Shape.Rank != 3 || queries.Shape[2] != HeadDim || queries.Shape[1] % KvHeads != 0)
            throw new ArgumentException($"queries {queries} must be [tokens, numHeads, {HeadDim}] with numHeads a multiple of {KvHeads} KV heads", nameof(queries));
        if (!output.Shape.Equals(queries.Shape))
            throw new ArgumentException($"output {output} must have the shape of queries {queries}", nameof(output));
        var tokens = queries.Shape[0];
        if (firstLength < 0 || (long)firstLength + tokens > Capacity)
            throw new ArgumentOutOfRangeException(nameof(firstLength),
                $"slots [0, {(long)firstLength + tokens}) do not fit the cache's capacity of {Capacity}");
        return (tokens, queries.Shape[1] / KvHeads);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        KeyData.Dispose();
        KeyScales.Dispose();
        ValueData.Dispose();
        ValueScales.Dispose();
    }
}
