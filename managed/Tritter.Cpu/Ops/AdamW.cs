using System.Numerics.Tensors;
using Tritter.Core.Backends;

namespace Tritter.Cpu.Ops;

/// <summary>AdamW with decoupled weight decay (as torch.optim.AdamW), and the sum of squares for gradient clipping.</summary>
public static class AdamW
{
    /// <summary>One update of a contiguous block of a parameter and its state.</summary>
    public static void Update(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, AdamWSettings settings)
    {
        SpanChecks.Length(parameter.Length, gradient.Length, nameof(gradient));
        SpanChecks.Length(parameter.Length, firstMoment.Length, nameof(firstMoment));
        SpanChecks.Length(parameter.Length, secondMoment.Length, nameof(secondMoment));
        var (lr, beta1, beta2) = (settings.LearningRate, settings.Beta1, settings.Beta2);
        var firstCorrection = 1 / (1 - MathF.Pow(beta1, settings.Step));
        var secondCorrection = 1 / (1 - MathF.Pow(beta2, settings.Step));
        var decay = 1 - lr * settings.WeightDecay;
        for (var i = 0; i < parameter.Length; i++)
        {
            var g = gradient[i] * settings.GradientScale;
            var m = firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
            var v = secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g;
            parameter[i] = parameter[i] * decay - lr * (m * firstCorrection) / (MathF.Sqrt(v * secondCorrection) + settings.Epsilon);
        }
    }

    /// <summary>Sum of squares: float32 within blocks of 4096 (vectorised), float64 across blocks.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        const int Block = 4096;
        var total = 0.0;
        for (var i = 0; i < values.Length; i += Block)
            total += TensorPrimitives.SumOfSquares(values.Slice(i, Math.Min(Block, values.Length - i)));
        return total;
    }
}
