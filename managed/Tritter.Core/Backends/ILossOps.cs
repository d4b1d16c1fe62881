using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Training losses, each fused with its gradient (the loss is the start of the backward pass).</summary>
public interface ILossOps
{
    /// <summary>
    /// Softmax cross-entropy of <paramref name="logits"/> <c>[rows, vocab]</c> against int32 <paramref name="targets"/>:
    /// <c>losses[n] = logsumexp(logits[n]) - logits[n, target]</c> and
    /// <c>logitsGradient[n] = gradientScale * (softmax(logits[n]) - onehot(target))</c>; rows whose target is the padding
    /// id 0 get loss 0 and gradient 0.
    /// </summary>
    void CrossEntropy(Tensor logits, Tensor targets, Tensor losses, Tensor logitsGradient, float gradientScale);

    /// <summary>
    /// Squared error of <paramref name="prediction"/> against <paramref name="target"/> (both <c>[rows, features]</c>):
    /// <c>losses[n] = sum_j (p - t)^2</c>, <c>predictionGradient = gradientScale * 2 (p - t)</c> and
    /// <c>targetGradient = -predictionGradient</c> (both overwritten); rows whose <paramref name="targetIds"/> entry is
    /// padding get loss and gradients 0.
    /// </summary>
    void SquaredError(Tensor prediction, Tensor target, Tensor targetIds, Tensor losses, Tensor predictionGradient, Tensor targetGradient, float gradientScale);
}
