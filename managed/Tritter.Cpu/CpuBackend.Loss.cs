using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void CrossEntropy(Tensor logits, Tensor targets, Tensor losses, Tensor logitsGradient, float gradientScale)
    {
        var (x, ids) = (Float32(logits, nameof(logits)), Typed(targets, DType.Int32, nameof(targets)));
        var (l, g) = (Float32(losses, nameof(losses)), Float32(logitsGradient, nameof(logitsGradient)));
        var (rows, vocab) = OpShapes.CrossEntropy(logits, targets, losses, logitsGradient);
        CpuParallel.ForRows(rows, 8L * vocab, (start, count) =>
            Ops.Loss.CrossEntropy(x.Span<float>().Slice(start * vocab, count * vocab), ids.Span<int>().Slice(start, count),
                l.Span<float>().Slice(start, count), g.Span<float>().Slice(start * vocab, count * vocab), vocab, gradientScale));
    }

    /// <inheritdoc />
    public void SquaredError(Tensor prediction, Tensor target, Tensor targetIds, Tensor losses, Tensor predictionGradient, Tensor targetGradient, float gradientScale)
    {
        var ids = Typed(targetIds, DType.Int32, nameof(targetIds));
        var (_, width) = OpShapes.SquaredError(prediction, target, targetIds, losses, predictionGradient, targetGradient);
        Ops.Loss.SquaredError(Floats(prediction, nameof(prediction)), Floats(target, nameof(target)), ids.Span<int>(),
            Floats(losses, nameof(losses)), Floats(predictionGradient, nameof(predictionGradient)),
            Floats(targetGradient, nameof(targetGradient)), width, gradientScale);
    }
}
