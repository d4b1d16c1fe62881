using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Training attention, flash-attention style (<c>kernels/attention.cu</c>), at <see cref="MatmulPrecision"/>: TF32
/// products of the float32 operands, or bf16 products of bf16 copies of q, k, v and dO; both keep the softmax and every
/// output in float32.
/// </summary>
public sealed partial class CudaBackend : IAttentionOps
{
    /// <inheritdoc />
    public void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor logSumExp)
    {
        var shape = OpShapes.Attention(query, key, value, output, logSumExp, segmentIds, mask);
        if (query.ElementCount == 0)
            return;
        var (kernel, bf16) = AttentionKernels(shape);
        var geometry = KernelLaunch.AttentionQueryTiles(shape, backward: false, bf16, Device.MaxSharedMemoryPerBlockOptIn);
        MakeCurrent();
        var (q, k, v) = (AttentionOperand("attention_q", query, bf16), AttentionOperand("attention_k", key, bf16), AttentionOperand("attention_v", value, bf16));
        Kernel("attention", $"attention_forward_{kernel}", geometry.SharedMemoryBytes).Launch(geometry, Stream,
            q, k, v, Segments(segmentIds, mask), (int)mask.Mode, mask.Window, mask.PrefixLength,
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
        var (kernel, bf16) = AttentionKernels(shape);
        var rows = shape.Batch * shape.Sequence * shape.Heads;
        var delta = Scratch("attention_delta", DType.Float32, rows);
        var lse = Own(logSumExp).Pointer;
        var segments = Segments(segmentIds, mask);
        var scale = AttentionScale(shape);
        var keyTiles = KernelLaunch.AttentionKeyTiles(shape, bf16, Device.MaxSharedMemoryPerBlockOptIn);
        var queryTiles = KernelLaunch.AttentionQueryTiles(shape, backward: true, bf16, Device.MaxSharedMemoryPerBlockOptIn);
        MakeCurrent();
        Kernel("attention", "attention_backward_delta").Launch(KernelLaunch.WarpPerRow(rows), Stream,
            Own(outputGradient).Pointer, Own(output).Pointer, rows, shape.Sequence, shape.Heads, shape.HeadDim, delta.Pointer);
        var (dOut, q) = (AttentionOperand("attention_d_out", outputGradient, bf16), AttentionOperand("attention_q", query, bf16));
        var (k, v) = (AttentionOperand("attention_k", key, bf16), AttentionOperand("attention_v", value, bf16));
        Kernel("attention", $"attention_backward_kv_{kernel}", keyTiles.SharedMemoryBytes).Launch(keyTiles, Stream,
            dOut, q, k, v, lse, delta.Pointer, segments, (int)mask.Mode, mask.Window, mask.PrefixLength, shape.Sequence, shape.Heads, shape.KvHeads,
            scale, Own(keyGradient).Pointer, Own(valueGradient).Pointer);
        Kernel("attention", $"attention_backward_q_{kernel}", queryTiles.SharedMemoryBytes).Launch(queryTiles, Stream,
            dOut, q, k, v, lse, delta.Pointer, segments, (int)mask.Mode, mask.Window, mask.PrefixLength, shape.Sequence, shape.Heads, shape.KvHeads,
            scale, Own(queryGradient).Pointer);
    }

    // The CPU twin's scale, computed the same way so both round it identically.
    private static float AttentionScale(AttentionGeometry shape) => 1f / MathF.Sqrt(shape.HeadDim);

    // The kernels' name suffix (precision and head dim) and whether they take bf16 operands.
    private (string Suffix, bool Bf16) AttentionKernels(AttentionGeometry shape)
    {
        if (shape.HeadDim is not (16 or 32 or 64 or 128))
            throw new ArgumentException($"head_dim {shape.HeadDim}: the CUDA attention kernels support 16, 32, 64 and 128", nameof(shape));
        var bf16 = MatmulPrecision == MatmulPrecision.BFloat16;
        return ($"{(bf16 ? "bf16" : "tf32")}_d{shape.HeadDim}", bf16);
    }

    // The tensor itself for TF32; for bf16, a copy in the scratch buffer `name`. Head dims are multiples of 8, so the
    // tensor converts as one row with no padding and each head's rows stay 16-byte aligned.
    private DevicePointer AttentionOperand(string name, Tensor tensor, bool bf16) =>
        bf16 ? ToBf16(name, Float32(tensor, name), 1, checked((int)tensor.ElementCount)).Pointer : Own(tensor).Pointer;

    // Segment ids only matter in document mode; elsewhere the kernels get a null pointer and never read them.
    private static DevicePointer Segments(Tensor? segmentIds, AttentionMask mask) =>
        mask.Mode == AttentionMode.DocumentBoundary ? Own(segmentIds!).Pointer : default;
}
