using System.Runtime.Intrinsics;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Squared ReLU, <c>y = relu(x)^2</c>, and its gradient <c>dx = 2 relu(x) dy</c>: the CPU twin of <c>kernels/sqrelu.cu</c>.
/// </summary>
public static class SquaredRelu
{
    /// <summary><c>output[i] = max(input[i], 0)^2</c>.</summary>
    public static void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        CheckLengths(input.Length, output.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= input.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = Vector256.Max(Vector256.Create(input[i..]), Vector256<float>.Zero);
                (r * r).CopyTo(output[i..]);
            }
        }
        for (; i < input.Length; i++)
        {
            var r = MathF.Max(input[i], 0f);
            output[i] = r * r;
        }
    }

    /// <summary><c>inputGradient[i] = 2 max(input[i], 0) outputGradient[i]</c>.</summary>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        CheckLengths(input.Length, outputGradient.Length);
        CheckLengths(input.Length, inputGradient.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var two = Vector256.Create(2f);
            for (; i <= input.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = Vector256.Max(Vector256.Create(input[i..]), Vector256<float>.Zero);
                (two * r * Vector256.Create(outputGradient[i..])).CopyTo(inputGradient[i..]);
            }
        }
        for (; i < input.Length; i++)
            inputGradient[i] = 2f * MathF.Max(input[i], 0f) * outputGradient[i];
    }

    private static void CheckLengths(int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"span lengths differ: {expected} and {actual}");
    }
}
