using Tritter.Core.Backends;

namespace Tritter.Inference;

/// <summary>
/// The INT4 KV-cache of one sequence: a <see cref="KvCacheInt4Layer"/> per layer, allocated up to the capacity at
/// construction. Past the capacity it evicts as StreamingLLM does: the first <see cref="SinkTokens"/> positions stay,
/// and the other slots form a ring holding the most recent positions. Keys are written after RoPE with their original
/// positions, so a cached key never needs its position again; softmax attention over a set of (key, value) pairs does
/// not depend on their order, so decode attention reads slots <c>[0, Length)</c> in slot order.
/// </summary>
public sealed class KvCacheInt4 : IDisposable
{
    private readonly KvCacheInt4Layer[] _layers;

    /// <summary>Allocates <paramref name="layers"/> layers of <paramref name="capacity"/> slots on <paramref name="store"/>.</summary>
    public KvCacheInt4(ITensorStore store, int layers, int kvHeads, int headDim, int capacity, int sinkTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        if (sinkTokens < 0 || sinkTokens >= capacity)
            throw new ArgumentOutOfRangeException(nameof(sinkTokens), $"sinkTokens {sinkTokens} must be in [0, capacity {capacity})");
        _layers = new KvCacheInt4Layer[layers];
        try
        {
            for (var i = 0; i < layers; i++)
                _layers[i] = KvCacheInt4Layer.Allocate(store, kvHeads, capacity, headDim);
        }
        catch
        {
            Dispose();
            throw;
        }
        Capacity = capacity;
        SinkTokens = sinkTokens;
    }

    /// <summary>Slots per layer and KV head.</summary>
    public int Capacity { get; }

    /// <summary>Positions at the start of the sequence that are never evicted.</summary>
    public int SinkTokens { get; }

    /// <summary>Tokens appended so far: the original position of the next token (for its RoPE).</summary>
    public long Position { get; private set; }

    /// <summary>Slots that hold a token: attention reads <c>[0, Length)</c>.</summary>
    public int Length => (int)Math.Min(Position, Capacity);

    /// <summary>Number of layers.</summary>
    public int LayerCount => _layers.Length;

    /// <summary>The tensors of layer <paramref name="index"/>.</summary>
    public KvCacheInt4Layer Layer(int index) => _layers[index];

    /// <summary>
    /// Reserves slots for the next <paramref name="tokens"/> positions and returns the first; write every layer there with
    /// <see cref="IKvCacheOps.KvCacheWrite"/>. Once the cache is full each new position replaces the oldest non-sink one.
    /// The slots of one call are consecutive, so a batch may not cross the end of the ring.
    /// </summary>
    public int Reserve(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var slot = Position < Capacity
            ? (int)Position
            : SinkTokens + (int)((Position - SinkTokens) % (Capacity - SinkTokens));
        if (tokens > Capacity - slot)
            throw new ArgumentOutOfRangeException(nameof(tokens),
                $"{tokens} tokens from slot {slot} cross the end of the cache (capacity {Capacity}); append at most {Capacity - slot} now and the rest after");
        Position += tokens;
        return slot;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in _layers)
            layer?.Dispose();
    }
}
