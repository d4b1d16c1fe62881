using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Training losses fused with their gradients: <c>kernels/loss.cu</c>.</summary>
public sealed partial class CudaBackend : ILossOps
{
    /// <inheritdoc />
    /// <remarks>Targets are checked on the device: a bad one is raised at the next synchronisation (CudaBackend.IdChecks.cs).</remarks>
    public void CrossEntropy(Tensor logits, Tensor targets, Tensor losses, Tensor logitsGradient, float gradientScale)
    {
        var x = Float32(logits, nameof(logits));
        var (l, g) = (Float32(losses, nameof(losses)), Float32(logitsGradient, nameof(logitsGradient)));
        var (rows, vocab) = OpShapes.CrossEntropy(logits, targets, losses, logitsGradient);
        if (rows == 0)
            return;
        MakeCurrent();
        Kernel("loss", "cross_entropy_f32").Launch(KernelLaunch.CrossEntropy(rows, Device), Stream,
            x.Pointer, Own(targets).Pointer, l.Pointer, g.Pointer, rows, vocab, gradientScale, IdErrorRecord);
    }

    /// <inheritdoc />
    public void SquaredError(Tensor prediction, Tensor target, Tensor targetIds, Tensor losses, Tensor predictionGradient, Tensor targetGradient, float gradientScale)
    {
        var (rows, width) = OpShapes.SquaredError(prediction, target, targetIds, losses, predictionGradient, targetGradient);
        var (p, t) = (Float32(prediction, nameof(prediction)), Float32(target, nameof(target)));
        var (l, gp, gt) = (Float32(losses, nameof(losses)), Float32(predictionGradient, nameof(predictionGradient)), Float32(targetGradient, nameof(targetGradient)));
        if (rows == 0)
            return;
        MakeCurrent();
        Kernel("loss", "squared_error_f32").Launch(KernelLaunch.WarpPerRow(rows), Stream,
            p.Pointer, t.Pointer, Own(targetIds).Pointer, l.Pointer, gp.Pointer, gt.Pointer, rows, width, gradientScale);
    }
}
