using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// The shape rules of the op contract, checked in one place for every backend: each method throws
/// <see cref="ArgumentException"/> naming the offending argument, and returns the sizes the op derives.
/// </summary>
public static class OpShapes
{
    /// <summary>LayerNorm forward: returns (rows, width).</summary>
    public static (int Rows, int Width) LayerNorm(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor mean, Tensor reciprocalStd)
    {
        var width = (int)weight.ElementCount;
        var rows = TensorChecks.RequireRows(input, width, nameof(input));
        TensorChecks.RequireCount(bias, width, nameof(bias));
        TensorChecks.RequireSameCount(input, nameof(input), output, nameof(output));
        TensorChecks.RequireCount(mean, rows, nameof(mean));
        TensorChecks.RequireCount(reciprocalStd, rows, nameof(reciprocalStd));
        return (rows, width);
    }

    /// <summary>LayerNorm backward: returns (rows, width).</summary>
    public static (int Rows, int Width) LayerNormBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor mean, Tensor reciprocalStd,
        Tensor inputGradient, Tensor weightGradient, Tensor biasGradient)
    {
        var width = (int)weight.ElementCount;
        var rows = TensorChecks.RequireRows(input, width, nameof(input));
        TensorChecks.RequireSameCount(input, nameof(input), outputGradient, nameof(outputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        TensorChecks.RequireCount(mean, rows, nameof(mean));
        TensorChecks.RequireCount(reciprocalStd, rows, nameof(reciprocalStd));
        TensorChecks.RequireCount(weightGradient, width, nameof(weightGradient));
        TensorChecks.RequireCount(biasGradient, width, nameof(biasGradient));
        return (rows, width);
    }

    /// <summary>AdamW: parameter, gradient and moments of one size, steps from 1.</summary>
    public static void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings)
    {
        TensorChecks.RequireSameCount(parameter, nameof(parameter), gradient, nameof(gradient));
        TensorChecks.RequireSameCount(parameter, nameof(parameter), firstMoment, nameof(firstMoment));
        TensorChecks.RequireSameCount(parameter, nameof(parameter), secondMoment, nameof(secondMoment));
        if (settings.Step < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Step, "AdamW steps count from 1");
    }

    /// <summary>Cross-entropy: int32 targets, one logits row of <c>vocab</c> per target; returns (rows, vocab).</summary>
    public static (int Rows, int Vocab) CrossEntropy(Tensor logits, Tensor targets, Tensor losses, Tensor logitsGradient)
    {
        TensorChecks.RequireType(targets, DType.Int32, nameof(targets));
        var rows = (int)targets.ElementCount;
        var vocab = logits.Shape[-1];
        TensorChecks.RequireCount(logits, (long)rows * vocab, nameof(logits));
        TensorChecks.RequireCount(losses, rows, nameof(losses));
        TensorChecks.RequireSameCount(logits, nameof(logits), logitsGradient, nameof(logitsGradient));
        return (rows, vocab);
    }

    /// <summary>Squared error: int32 target ids, one row of <c>width</c> per id; returns (rows, width).</summary>
    public static (int Rows, int Width) SquaredError(Tensor prediction, Tensor target, Tensor targetIds, Tensor losses, Tensor predictionGradient, Tensor targetGradient)
    {
        TensorChecks.RequireType(targetIds, DType.Int32, nameof(targetIds));
        var width = prediction.Shape[-1];
        TensorChecks.RequireCount(prediction, targetIds.ElementCount * width, nameof(prediction));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), target, nameof(target));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), predictionGradient, nameof(predictionGradient));
        TensorChecks.RequireSameCount(prediction, nameof(prediction), targetGradient, nameof(targetGradient));
        TensorChecks.RequireCount(losses, targetIds.ElementCount, nameof(losses));
        return ((int)targetIds.ElementCount, width);
    }

    /// <summary>Dense linear layer forward: weight <c>[out, in]</c>, rows of <c>in</c>; returns (rows, in, out).</summary>
    public static (int Rows, int InFeatures, int OutFeatures) Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        TensorChecks.RequireRank(weight, 2, nameof(weight));
        var (outFeatures, inFeatures) = (weight.Shape[0], weight.Shape[1]);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(output, (long)rows * outFeatures, nameof(output));
        if (bias is not null)
            TensorChecks.RequireCount(bias, outFeatures, nameof(bias));
        return (rows, inFeatures, outFeatures);
    }

    /// <summary>Dense linear layer backward, the same shapes as <see cref="Matmul"/>; returns (rows, in, out).</summary>
    public static (int Rows, int InFeatures, int OutFeatures) MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight,
        Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient)
    {
        TensorChecks.RequireRank(weight, 2, nameof(weight));
        var (outFeatures, inFeatures) = (weight.Shape[0], weight.Shape[1]);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(outputGradient, (long)rows * outFeatures, nameof(outputGradient));
        if (inputGradient is not null)
            TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        TensorChecks.RequireCount(weightGradient, weight.ElementCount, nameof(weightGradient));
        if (biasGradient is not null)
            TensorChecks.RequireCount(biasGradient, outFeatures, nameof(biasGradient));
        return (rows, inFeatures, outFeatures);
    }
}
