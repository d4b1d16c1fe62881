using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Tensors;
using Tritter.Cpu.Ops;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Attention(Tensor query, Tensor key, Tensor value, Tensor? segmentIds, AttentionMask mask, Tensor output, Tensor probabilities)
    {
        var shape = CheckAttention(query, key, value, probabilities);
        var (q, k, v) = (Float32(query, nameof(query)), Float32(key, nameof(key)), Float32(value, nameof(value)));
        var (o, p) = (Float32(output, nameof(output)), Float32(probabilities, nameof(probabilities)));
        TensorChecks.RequireShape(output, query.Shape, nameof(output));
        CpuTensor? segments = null;
        if (mask.Mode == AttentionMode.DocumentBoundary)
        {
            segments = Typed(segmentIds ?? throw new ArgumentNullException(nameof(segmentIds), "document-boundary attention needs segment ids"),
                DType.Int32, nameof(segmentIds));
            TensorChecks.RequireCount(segments, (long)shape.Batch * shape.Sequence, nameof(segmentIds));
        }
        CpuParallel.ForRows(shape.Batch * shape.Heads, (long)shape.Sequence * shape.Sequence * shape.HeadDim * 2, (start, count) =>
        {
            for (var pair = start; pair < start + count; pair++)
                Ops.Attention.Forward(q.Span<float>(), k.Span<float>(), v.Span<float>(), segments is null ? default : segments.Span<int>(),
                    mask, shape, pair / shape.Heads, pair % shape.Heads, o.Span<float>(), p.Span<float>());
        });
    }

    /// <inheritdoc />
    public void AttentionBackward(Tensor outputGradient, Tensor query, Tensor key, Tensor value, Tensor probabilities,
        Tensor queryGradient, Tensor keyGradient, Tensor valueGradient)
    {
        var shape = CheckAttention(query, key, value, probabilities);
        var (q, k, v, p) = (Float32(query, nameof(query)), Float32(key, nameof(key)), Float32(value, nameof(value)), Float32(probabilities, nameof(probabilities)));
        var dOut = Float32(outputGradient, nameof(outputGradient));
        var (dq, dk, dv) = (Float32(queryGradient, nameof(queryGradient)), Float32(keyGradient, nameof(keyGradient)), Float32(valueGradient, nameof(valueGradient)));
        TensorChecks.RequireShape(outputGradient, query.Shape, nameof(outputGradient));
        TensorChecks.RequireShape(queryGradient, query.Shape, nameof(queryGradient));
        TensorChecks.RequireShape(keyGradient, key.Shape, nameof(keyGradient));
        TensorChecks.RequireShape(valueGradient, value.Shape, nameof(valueGradient));
        CpuParallel.ForRows(shape.Batch * shape.KvHeads, (long)shape.Group * shape.Sequence * shape.Sequence * shape.HeadDim * 4, (start, count) =>
        {
            var scratch = new float[shape.Sequence];
            for (var pair = start; pair < start + count; pair++)
                Ops.Attention.Backward(dOut.Span<float>(), q.Span<float>(), k.Span<float>(), v.Span<float>(), p.Span<float>(), shape,
                    pair / shape.KvHeads, pair % shape.KvHeads, dq.Span<float>(), dk.Span<float>(), dv.Span<float>(), scratch);
        });
    }

    private static AttentionShape CheckAttention(Tensor query, Tensor key, Tensor value, Tensor probabilities)
    {
        TensorChecks.RequireRank(query, 4, nameof(query));
        TensorChecks.RequireRank(key, 4, nameof(key));
        TensorChecks.RequireShape(value, key.Shape, nameof(value));
        var shape = new AttentionShape(query.Shape[0], query.Shape[1], query.Shape[2], key.Shape[2], query.Shape[3]);
        TensorChecks.RequireShape(key, [shape.Batch, shape.Sequence, shape.KvHeads, shape.HeadDim], nameof(key));
        if (shape.Heads % shape.KvHeads != 0)
            throw new ArgumentException($"{shape.KvHeads} key/value heads do not divide {shape.Heads} query heads", nameof(key));
        TensorChecks.RequireShape(probabilities, [shape.Batch, shape.Heads, shape.Sequence, shape.Sequence], nameof(probabilities));
        return shape;
    }
}
