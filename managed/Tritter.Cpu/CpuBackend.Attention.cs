using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor logSumExp)
    {
        var shape = OpShapes.Attention(query, key, value, output, logSumExp, segmentIds, mask);
        var (q, k, v) = (Float32(query, nameof(query)), Float32(key, nameof(key)), Float32(value, nameof(value)));
        var (o, lse) = (Float32(output, nameof(output)), Float32(logSumExp, nameof(logSumExp)));
        var segments = Segments(segmentIds, mask);
        CpuParallel.ForRows(shape.Batch * shape.Heads, (long)shape.Sequence * shape.Sequence * shape.HeadDim * 2, (start, count) =>
        {
            var scores = new float[shape.Sequence];
            for (var pair = start; pair < start + count; pair++)
                Ops.Attention.Forward(q.Span<float>(), k.Span<float>(), v.Span<float>(), segments is null ? default : segments.Span<int>(),
                    mask, shape, pair / shape.Heads, pair % shape.Heads, o.Span<float>(), lse.Span<float>(), scores);
        });
    }

    /// <inheritdoc />
    public void AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor output, Tensor logSumExp,
        Tensor? segmentIds, AttentionMask mask, Tensor queryGradient, Tensor keyGradient, Tensor valueGradient)
    {
        var shape = OpShapes.AttentionBackward(outputGradient, query, key, value, output, logSumExp, segmentIds, mask,
            queryGradient, keyGradient, valueGradient);
        var (q, k, v) = (Float32(query, nameof(query)), Float32(key, nameof(key)), Float32(value, nameof(value)));
        var (o, lse, dOut) = (Float32(output, nameof(output)), Float32(logSumExp, nameof(logSumExp)), Float32(outputGradient, nameof(outputGradient)));
        var (dq, dk, dv) = (Float32(queryGradient, nameof(queryGradient)), Float32(keyGradient, nameof(keyGradient)), Float32(valueGradient, nameof(valueGradient)));
        var segments = Segments(segmentIds, mask);
        CpuParallel.ForRows(shape.Batch * shape.KvHeads, (long)shape.Group * shape.Sequence * shape.Sequence * shape.HeadDim * 6, (start, count) =>
        {
            var scratch = new float[2 * shape.Sequence];
            for (var pair = start; pair < start + count; pair++)
                Ops.Attention.Backward(dOut.Span<float>(), q.Span<float>(), k.Span<float>(), v.Span<float>(), o.Span<float>(), lse.Span<float>(),
                    segments is null ? default : segments.Span<int>(), mask, shape, pair / shape.KvHeads, pair % shape.KvHeads,
                    dq.Span<float>(), dk.Span<float>(), dv.Span<float>(), scratch);
        });
    }

    private static CpuTensor? Segments(Tensor? segmentIds, AttentionMask mask) =>
        mask.Mode == AttentionMode.DocumentBoundary ? Typed(segmentIds!, DType.Int32, nameof(segmentIds)) : null;
}
