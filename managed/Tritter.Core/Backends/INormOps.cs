using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>LayerNorm with weight and bias over the last <c>weight.Length</c> elements of each row (also QK-Norm over head_dim).</summary>
public interface INormOps
{
    /// <summary>
    /// <c>output = (input - mean) * rstd * weight + bias</c> per row; the row statistics <paramref name="mean"/> and
    /// <paramref name="reciprocalStd"/> (one per row) are saved for the backward pass.
    /// </summary>
    void LayerNorm(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor mean, Tensor reciprocalStd, float epsilon);

    /// <summary>Overwrites <paramref name="inputGradient"/>; accumulates into the weight and bias gradients.</summary>
    void LayerNormBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor mean, Tensor reciprocalStd,
        Tensor inputGradient, Tensor weightGradient, Tensor biasGradient);
}
