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
        var q = Own(query);
        var o = Own(output);
        var slice = group * layer.HeadDim;
        Parallel.For(0, layer.KvHeads, h =>
        {
            var view = new KvInt4View(Own(layer.KeyData).Span<byte>(), Own(layer.KeyScales).Span<Half>(),
                Own(layer.ValueData).Span<byte>(), Own(layer.ValueScales).Span<Half>(), layer.Capacity, layer.HeadDim);
            KvInt4.DecodeAttention(q.Span<float>().Slice(h * slice, slice), view, h, length, o.Span<float>().Slice(h * slice, slice));
        });
    }
}
