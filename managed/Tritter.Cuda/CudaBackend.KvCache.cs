using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>INT4 KV-cache: <c>kernels/kv_int4.cu</c>.</summary>
public sealed partial class CudaBackend : IKvCacheOps
{
    private DeviceMemory? _attentionPartials;

    /// <inheritdoc />
    public void KvCacheWrite(Tensor keys, Tensor values, KvCacheInt4Layer layer, int firstSlot)
    {
        ArgumentNullException.ThrowIfNull(layer);
        layer.CheckWrite(keys, values, firstSlot);
        var tokens = keys.Shape[0];
        MakeCurrent();
        Kernel("kv_int4", $"kv_int4_write_d{SupportedHeadDim(layer)}").Launch(KernelLaunch.KvWrite(tokens, layer.KvHeads), Stream,
            Own(keys).Pointer, Own(values).Pointer, tokens, layer.KvHeads, layer.Capacity, firstSlot,
            Own(layer.KeyData).Pointer, Own(layer.KeyScales).Pointer, Own(layer.ValueData).Pointer, Own(layer.ValueScales).Pointer,
            StepSlot(firstSlot));
    }

    /// <inheritdoc />
    public void DecodeAttention(Tensor query, KvCacheInt4Layer layer, int length, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var group = layer.CheckDecodeAttention(query, length, output);
        Decode(Own(query).Pointer, layer, group, query.Shape[0], length, 1, Own(output).Pointer, StepLength(length));
    }

    /// <inheritdoc />
    public void PrefillAttention(Tensor queries, KvCacheInt4Layer layer, int firstLength, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var (tokens, group) = layer.CheckPrefillAttention(queries, firstLength, output);
        if (_stepMode is not null)
            throw new InvalidOperationException("a recorded decode step runs one token: prefill attention has no place in it");
        var numHeads = queries.Shape[1];
        var rowBytes = (long)numHeads * layer.HeadDim * sizeof(float);
        // The tokens of one launch each take a ticket per KV head from the fixed counter region.
        var perLaunch = Math.Max(1, Math.Min(MaxPrefillTokensPerLaunch, MaxDecodeKvHeads / layer.KvHeads));
        for (var t = 0; t < tokens; t += perLaunch)
        {
            var count = Math.Min(perLaunch, tokens - t);
            Decode(Own(queries).Pointer.Offset(t * rowBytes), layer, group, numHeads, firstLength + t + 1, count,
                Own(output).Pointer.Offset(t * rowBytes), default);
        }
    }

    // With stepLength (a recorded decode step) the kernel reads the length there and the grid has every split. With
    // several tokens (prefill), token i attends over length + i positions.
    private void Decode(DevicePointer query, KvCacheInt4Layer layer, int group, int numHeads, int length, int tokens, DevicePointer output,
        DevicePointer stepLength)
    {
        if (group is not (1 or 2 or 4 or 8))
            throw new ArgumentException($"{group} query heads per KV head: the CUDA kernels support 1, 2, 4 or 8", nameof(layer));
        if (layer.KvHeads > MaxDecodeKvHeads)
            throw new ArgumentException($"{layer.KvHeads} KV heads: the CUDA decode supports at most {MaxDecodeKvHeads}", nameof(layer));
        var headDim = SupportedHeadDim(layer);
        var (geometry, splitSize, splits) = KernelLaunch.KvDecode(layer.KvHeads, length + tokens - 1, Device,
            everySplitUpTo: stepLength.Address != 0 ? layer.Capacity : 0, tokens);
        var partials = (long)numHeads * splits * tokens;
        var scratch = AttentionScratch(CounterBytes + partials * (headDim + 2) * sizeof(float));
        var counters = scratch.Pointer;
        var acc = counters.Offset(CounterBytes);
        var max = acc.Offset(partials * headDim * sizeof(float));
        var sum = max.Offset(partials * sizeof(float));
        MakeCurrent();
        Kernel("kv_int4", $"kv_int4_decode_d{headDim}_g{group}").Launch(geometry, Stream,
            query, Own(layer.KeyData).Pointer, Own(layer.KeyScales).Pointer, Own(layer.ValueData).Pointer,
            Own(layer.ValueScales).Pointer, layer.Capacity, length, splitSize, acc, max, sum, counters, output, stepLength);
    }

    private static int SupportedHeadDim(KvCacheInt4Layer layer) => layer.HeadDim is 32 or 64 or 128
        ? layer.HeadDim
        : throw new ArgumentException($"head_dim {layer.HeadDim}: the CUDA kernels support 32, 64 and 128", nameof(layer));

    // The decode kernel's tickets, one per (token, KV head) (the last block of a head merges the splits and resets its
    // ticket to 0), live at the start of the scratch, a fixed region, so that a later call with other shapes finds them still zero.
    private const int MaxDecodeKvHeads = 1024;
    // Prefill tokens per attention launch: 128 tokens of 8 KV heads are 1024 blocks, several waves on any GPU.
    private const int MaxPrefillTokensPerLaunch = 128;
    private const long CounterBytes = MaxDecodeKvHeads * sizeof(uint);

    // Tickets and split partials live in one scratch allocation reused by every call; work on the one stream is
    // ordered, so a reuse never overlaps a running kernel. Growing waits for the stream before freeing the old buffer
    // and zeroes the new one (the tickets).
    private DeviceMemory AttentionScratch(long bytes)
    {
        if (_attentionPartials is { } current && current.Bytes >= bytes)
            return current;
        MakeCurrent();
        Stream.Synchronize();
        _attentionPartials?.Dispose();
        _scratchGeneration++;
        _attentionPartials = DeviceMemory.Allocate(bytes);
        _attentionPartials.FillBytesAsync(0, Stream);
        return _attentionPartials;
    }
}
