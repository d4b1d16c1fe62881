using System.Numerics.Tensors;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu.Ops;

/// <summary>AdamW with decoupled weight decay (as torch.optim.AdamW), and the sum of squares for gradient clipping.</summary>
public static class AdamW
{
    /// <summary>One update of a contiguous block of a parameter and its state.</summary>
    public static void Update(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, AdamWSettings settings)
    {
        CheckLengths(parameter.Length, gradient.Length, firstMoment.Length, secondMoment.Length);
        var step = new Step(settings);
        for (var i = 0; i < parameter.Length; i++)
            step.Apply(ref parameter[i], gradient[i], ref firstMoment[i], ref secondMoment[i]);
    }

    /// <summary>
    /// One update with the moments stored as bfloat16 bits: each is widened, updated in float32 exactly as
    /// <see cref="Update(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AdamWSettings)"/> does, and rounded
    /// back to nearest even (half the optimiser state's memory; the parameter stays float32).
    /// </summary>
    public static void Update(Span<float> parameter, ReadOnlySpan<float> gradient, Span<ushort> firstMoment, Span<ushort> secondMoment, AdamWSettings settings)
    {
        CheckLengths(parameter.Length, gradient.Length, firstMoment.Length, secondMoment.Length);
        var step = new Step(settings);
        for (var i = 0; i < parameter.Length; i++)
        {
            var (m, v) = (BFloat16Bits.ToSingle(firstMoment[i]), BFloat16Bits.ToSingle(secondMoment[i]));
            step.Apply(ref parameter[i], gradient[i], ref m, ref v);
            (firstMoment[i], secondMoment[i]) = (BFloat16Bits.FromSingle(m), BFloat16Bits.FromSingle(v));
        }
    }

    private static void CheckLengths(int parameter, int gradient, int firstMoment, int secondMoment)
    {
        SpanChecks.Length(parameter, gradient, nameof(gradient));
        SpanChecks.Length(parameter, firstMoment, nameof(firstMoment));
        SpanChecks.Length(parameter, secondMoment, nameof(secondMoment));
    }

    /// <summary>The per-step factors, in float32 as kernels/adamw.cu receives them, and the update of one element.</summary>
    private readonly struct Step(AdamWSettings settings)
    {
        private readonly float _firstCorrection = 1 / (1 - MathF.Pow(settings.Beta1, settings.Step));
        private readonly float _secondCorrection = 1 / (1 - MathF.Pow(settings.Beta2, settings.Step));
        private readonly float _decay = 1 - settings.LearningRate * settings.WeightDecay;

        public void Apply(ref float parameter, float gradient, ref float firstMoment, ref float secondMoment)
        {
            var (lr, beta1, beta2) = (settings.LearningRate, settings.Beta1, settings.Beta2);
            var g = gradient * settings.GradientScale;
            var m = firstMoment = beta1 * firstMoment + (1 - beta1) * g;
            var v = secondMoment = beta2 * secondMoment + (1 - beta2) * g * g;
            parameter = parameter * _decay - lr * (m * _firstCorrection) / (MathF.Sqrt(v * _secondCorrection) + settings.Epsilon);
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
