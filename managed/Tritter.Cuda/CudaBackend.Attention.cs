using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>Training attention, flash-attention style: <c>kernels/attention.cu</c>.</summary>
public sealed partial class CudaBackend : IAttentionOps
{
    /// <inheritdoc />
    public void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor logSumExp)
    {
        var shape = OpShapes.Attention(query, key, value, output, logSumExp, segmentIds, mask);
        if (query.ElementCount == 0)
            return;
        var headDim = AttentionHeadDim(shape);
        var geometry = KernelLaunch.AttentionQueryTiles(shape, backward: false, Device.MaxSharedMemoryPerBlockOptIn);
        MakeCurrent();
        Kernel("attention", $"attention_forward_d{headDim}", geometry.SharedMemoryBytes).Launch(geometry, Stream,
            Own(query).Pointer, Own(key).Pointer, Own(value).Pointer, Segments(segmentIds, mask), (int)mask.Mode, mask.Window, mask.PrefixLength,
            shape.Sequence, shape.Heads, shape.KvHeads, AttentionScale(shape), Own(output).Pointer, Own(logSumExp).Pointer);
    }

    /// <inheritdoc />
    public void AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor output, Tensor logSumExp,
        Tensor? segmentIds, AttentionMask mask, Tensor queryGradient, Tensor keyGradient, Tensor valueGradient)
    {
        var shape = OpShapes.AttentionBackward(outputGradient, query, key, value, output, logSumExp, segmentIds, mask,
            queryGradient, keyGradient, valueGradient);
        if (query.ElementCount == 0)
            return;
        var headDim = AttentionHeadDim(shape);
        var rows = shape.Batch * shape.Sequence * shape.Heads;
        var delta = Scratch("attention_delta", DType.Float32, rows);
        var (dOut, q, k, v, lse) = (Own(outputGradient).Pointer, Own(query).Pointer, Own(key).Pointer, Own(value).Pointer, Own(logSumExp).Pointer);
        var segments = Segments(segmentIds, mask);
        var scale = AttentionScale(shape);
        var keyTiles = KernelLaunch.AttentionKeyTiles(shape, Device.MaxSharedMemoryPerBlockOptIn);
        var queryTiles = KernelLaunch.AttentionQueryTiles(shape, backward: true, Device.MaxSharedMemoryPerBlockOptIn);
        MakeCurrent();
        Kernel("attention", "attention_backward_delta").Launch(KernelLaunch.WarpPerRow(rows), Stream,
            dOut, Own(output).Pointer, rows, shape.Sequence, shape.Heads, shape.HeadDim, delta.Pointer);
        Kernel("attention", $"attention_backward_kv_d{headDim}", keyTiles.SharedMemoryBytes).Launch(keyTiles, Stream,
            dOut, q, k, v, lse, delta.Pointer, segments, (int)mask.Mode, mask.Window, mask.PrefixLength, shape.Sequence, shape.Heads, shape.KvHeads,
            scale, Own(keyGradient).Pointer, Own(valueGradient).Pointer);
        Kernel("attention", $"attention_backward_q_d{headDim}", queryTiles.SharedMemoryBytes).Launch(queryTiles, Stream,
            dOut, q, k, v, lse, delta.Pointer, segments, (int)mask.Mode, mask.Window, mask.PrefixLength, shape.Sequence, shape.Heads, shape.KvHeads,
            scale, Own(queryGradient).Pointer);
    }

    // The CPU twin's scale, computed the same way so both round it identically.
    private static float AttentionScale(AttentionGeometry shape) => 1f / MathF.Sqrt(shape.HeadDim);

    private static int AttentionHeadDim(AttentionGeometry shape) => shape.HeadDim is 16 or 32 or 64 or 128
        ? shape.HeadDim
        : throw new ArgumentException($"head_dim {shape.HeadDim}: the CUDA attention kernels support 16, 32, 64 and 128", nameof(shape));

    // Segment ids only matter in document mode; elsewhere the kernels get a null pointer and never read them.
    private static DevicePointer Segments(Tensor? segmentIds, AttentionMask mask) =>
        mask.Mode == AttentionMode.DocumentBoundary ? Own(segmentIds!).Pointer : default;
}
