using System.Runtime.Intrinsics;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Squared ReLU, <c>y = relu(x)^2</c>, and its gradient <c>dx = 2 relu(x) dy</c>; the gated activation
/// <c>y = relu(gate)^2 up</c> and its gradients: the CPU twin of <c>kernels/sqrelu.cu</c>.
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

    /// <summary><c>output[i] = max(gate[i], 0)^2 up[i]</c>.</summary>
    public static void GateForward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        CheckLengths(gate.Length, up.Length);
        CheckLengths(gate.Length, output.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= gate.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = Vector256.Max(Vector256.Create(gate[i..]), Vector256<float>.Zero);
                (r * r * Vector256.Create(up[i..])).CopyTo(output[i..]);
            }
        }
        for (; i < gate.Length; i++)
        {
            var r = MathF.Max(gate[i], 0f);
            output[i] = r * r * up[i];
        }
    }

    /// <summary>
    /// <c>gateGradient[i] = 2 max(gate[i], 0) (outputGradient[i] up[i])</c>, <c>upGradient[i] = outputGradient[i] max(gate[i], 0)^2</c>.
    /// </summary>
    public static void GateBackward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ReadOnlySpan<float> outputGradient, Span<float> gateGradient,
        Span<float> upGradient)
    {
        CheckLengths(gate.Length, up.Length);
        CheckLengths(gate.Length, outputGradient.Length);
        CheckLengths(gate.Length, gateGradient.Length);
        CheckLengths(gate.Length, upGradient.Length);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var two = Vector256.Create(2f);
            for (; i <= gate.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = Vector256.Max(Vector256.Create(gate[i..]), Vector256<float>.Zero);
                var dy = Vector256.Create(outputGradient[i..]);
                (two * r * (dy * Vector256.Create(up[i..]))).CopyTo(gateGradient[i..]);
                (dy * (r * r)).CopyTo(upGradient[i..]);
            }
        }
        for (; i < gate.Length; i++)
        {
            var r = MathF.Max(gate[i], 0f);
            gateGradient[i] = 2f * r * (outputGradient[i] * up[i]);
            upGradient[i] = outputGradient[i] * (r * r);
        }
    }

    private static void CheckLengths(int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"span lengths differ: {expected} and {actual}");
    }
}
