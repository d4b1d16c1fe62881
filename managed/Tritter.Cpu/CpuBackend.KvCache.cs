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

    // Token t's query heads that share KV head h form one [group, headDim] block, so each (token, KV head) pair is one
    // decode over slots [0, firstLength + t + 1).
    private static void Attend(CpuTensor query, CpuTensor output, KvCacheInt4Layer layer, int group, int tokens, int firstLength)
    {
        var slice = group * layer.HeadDim;
        Parallel.For(0, tokens * layer.KvHeads, item =>
        {
            var (t, h) = Math.DivRem(item, layer.KvHeads);
            var view = new KvInt4View(Own(layer.KeyData).Span<byte>(), Own(layer.KeyScales).Span<Half>(),
                Own(layer.ValueData).Span<byte>(), Own(layer.ValueScales).Span<Half>(), layer.Capacity, layer.HeadDim);
            var at = (t * layer.KvHeads + h) * slice;
            KvInt4.DecodeAttention(query.Span<float>().Slice(at, slice), view, h, firstLength + t + 1, output.Span<float>().Slice(at, slice));
        });
    }
}
