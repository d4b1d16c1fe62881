using System.Numerics.Tensors;

namespace Tritter.Cpu.Ops;

/// <summary>LayerNorm with weight and bias over rows of <c>weight.Length</c> elements, forward and backward.</summary>
public static class LayerNorm
{
    /// <summary>Normalises every row of <paramref name="input"/>, saving each row's mean and reciprocal standard deviation.</summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        Span<float> mean, Span<float> reciprocalStd, float epsilon)
    {
        var width = weight.Length;
        var rows = SpanChecks.Rows(input.Length, width, nameof(input));
        SpanChecks.Length(width, bias.Length, nameof(bias));
        SpanChecks.Length(input.Length, output.Length, nameof(output));
        SpanChecks.Length(rows, mean.Length, nameof(mean));
        SpanChecks.Length(rows, reciprocalStd.Length, nameof(reciprocalStd));
        for (var n = 0; n < rows; n++)
        {
            var x = input.Slice(n * width, width);
            var y = output.Slice(n * width, width);
            var mu = TensorPrimitives.Sum(x) / width;
            // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
            TensorPrimitives.Subtract(x, mu, y);
            var variance = TensorPrimitives.SumOfSquares(y) / width;
            var rstd = 1f / MathF.Sqrt(variance + epsilon);
            TensorPrimitives.Multiply(y, rstd, y);
            TensorPrimitives.FusedMultiplyAdd(y, weight, bias, y);
            mean[n] = mu;
            reciprocalStd[n] = rstd;
        }
    }

    /// <summary>
    /// <c>dx = rstd (dy w - mean(dy w) - xhat mean(dy w xhat))</c> for every row (overwrites); <paramref name="scratch"/>
    /// holds one row.
    /// </summary>
    public static void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> reciprocalStd, Span<float> inputGradient, Span<float> scratch)
    {
        var width = weight.Length;
        var rows = SpanChecks.Rows(input.Length, width, nameof(input));
        SpanChecks.Length(input.Length, outputGradient.Length, nameof(outputGradient));
        SpanChecks.Length(input.Length, inputGradient.Length, nameof(inputGradient));
        SpanChecks.Length(width, scratch.Length, nameof(scratch));
        for (var n = 0; n < rows; n++)
        {
            var x = input.Slice(n * width, width);
            var dy = outputGradient.Slice(n * width, width);
            var dx = inputGradient.Slice(n * width, width);
            var xhat = scratch;
            TensorPrimitives.Subtract(x, mean[n], xhat);
            TensorPrimitives.Multiply(xhat, reciprocalStd[n], xhat);
            TensorPrimitives.Multiply(dy, weight, dx);
            var meanGradient = TensorPrimitives.Sum(dx) / width;
            var meanGradientXhat = TensorPrimitives.Dot(dx, xhat) / width;
            for (var i = 0; i < width; i++)
                dx[i] = (dx[i] - meanGradient - xhat[i] * meanGradientXhat) * reciprocalStd[n];
        }
    }

    /// <summary><c>weightGradient += sum_n dy xhat</c>, <c>biasGradient += sum_n dy</c>, rows in order; <paramref name="scratch"/> holds one row.</summary>
    public static void BackwardParameters(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> reciprocalStd, Span<float> weightGradient, Span<float> biasGradient, Span<float> scratch)
    {
        var width = weightGradient.Length;
        var rows = SpanChecks.Rows(input.Length, width, nameof(input));
        SpanChecks.Length(input.Length, outputGradient.Length, nameof(outputGradient));
        SpanChecks.Length(width, biasGradient.Length, nameof(biasGradient));
        SpanChecks.Length(width, scratch.Length, nameof(scratch));
        for (var n = 0; n < rows; n++)
        {
            var dy = outputGradient.Slice(n * width, width);
            TensorPrimitives.Subtract(input.Slice(n * width, width), mean[n], scratch);
            TensorPrimitives.Multiply(scratch, reciprocalStd[n], scratch);
            TensorPrimitives.MultiplyAdd(scratch, dy, weightGradient, weightGradient);
            TensorPrimitives.Add(biasGradient, dy, biasGradient);
        }
    }
}
