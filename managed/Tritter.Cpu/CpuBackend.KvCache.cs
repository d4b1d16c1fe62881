using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Cpu.Ops;

namespace Tritter.Cpu;

/// <summary>INT4 KV-cache: <see cref="KvInt4"/>.</summary>
public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void KvCacheWrite(Tensor keys, Tensor values, KvCacheInt4Layer layer, int firstSlot)
    {
        ArgumentNullException.ThrowIfNull(layer);
        layer.CheckWrite(keys, values, firstSlot);
        KvInt4.Write(Own(keys).Span<float>(), layer.KvHeads, layer.HeadDim, layer.Capacity, firstSlot,
            Own(layer.KeyData).Span<byte>(), Own(layer.KeyScales).Span<Half>());
        KvInt4.Write(Own(values).Span<float>(), layer.KvHeads, layer.HeadDim, layer.Capacity, firstSlot,
            Own(layer.ValueData).Span<byte>(), Own(layer.ValueScales).Span<Half>());
    }

    /// <inheritdoc />
    public void DecodeAttention(Tensor query, KvCacheInt4Layer layer, int length, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var group = layer.CheckDecodeAttention(query, length, output);
        Attend(Own(query), Own(output), layer, group, tokens: 1, firstLength: length - 1);
    }

    /// <inheritdoc />
    public void PrefillAttention(Tensor queries, KvCacheInt4Layer layer, int firstLength, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var (tokens, group) = layer.CheckPrefillAttention(queries, firstLength, output);
        Attend(Own(queries), Own(output), layer, group, tokens, firstLength);
    }

    // Token t's query heads that share KV head h form one [group, headDim] block; a tile of consecutive tokens shares one
    // pass over KV head h's cache, so a prefill reads the cache once per tile rather than once per token.
    private static void Attend(CpuTensor query, CpuTensor output, KvCacheInt4Layer layer, int group, int tokens, int firstLength)
    {
        var slice = group * layer.HeadDim;
        var stride = layer.KvHeads * slice;
        var tile = Math.Max(1, KvInt4Attention.TileRows / group);
        var tiles = (tokens + tile - 1) / tile;
        Parallel.For(0, tiles * layer.KvHeads, item =>
        {
            var (index, h) = Math.DivRem(item, layer.KvHeads);
            var first = index * tile;
            var count = Math.Min(tile, tokens - first);
            var view = new KvInt4View(Own(layer.KeyData).Span<byte>(), Own(layer.KeyScales).Span<Half>(),
                Own(layer.ValueData).Span<byte>(), Own(layer.ValueScales).Span<Half>(), layer.Capacity, layer.HeadDim);
            var (at, length) = (first * stride + h * slice, (count - 1) * stride + slice);
            KvInt4Attention.Attend(query.Span<float>().Slice(at, length), output.Span<float>().Slice(at, length), stride, group, count,
                view, h, firstLength + first);
        });
    }
}
