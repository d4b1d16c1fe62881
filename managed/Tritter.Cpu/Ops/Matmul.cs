using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Dense products of a linear layer with weights <c>[out, in]</c>: the forward <c>y = x W^T + b</c> and the backward
/// <c>dx = dy W</c>, <c>dW += dy^T x</c>, <c>db += sum dy</c>. Each function handles a contiguous block of rows so the
/// caller can spread blocks over cores.
/// </summary>
public static class Matmul
{
    /// <summary><c>output[n, m] = input[n, :] . weight[m, :] + bias[m]</c> for every row of <paramref name="input"/>; an empty bias means none.</summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, int inFeatures, int outFeatures)
    {
        var rows = SpanChecks.Rows(input.Length, inFeatures, nameof(input));
        SpanChecks.Length(outFeatures * inFeatures, weight.Length, nameof(weight));
        SpanChecks.Length(rows * outFeatures, output.Length, nameof(output));
        if (!bias.IsEmpty)
            SpanChecks.Length(outFeatures, bias.Length, nameof(bias));
        for (var n = 0; n < rows; n++)
        {
            var x = input.Slice(n * inFeatures, inFeatures);
            var y = output.Slice(n * outFeatures, outFeatures);
            var m = 0;
            // Four weight rows per pass reuse each loaded slice of x four times.
            for (; m + 4 <= outFeatures; m += 4)
                Dot4(x, weight.Slice(m * inFeatures, 4 * inFeatures), y.Slice(m, 4));
            for (; m < outFeatures; m++)
                y[m] = TensorPrimitives.Dot(x, weight.Slice(m * inFeatures, inFeatures));
            if (!bias.IsEmpty)
                TensorPrimitives.Add(y, bias, y);
        }
    }

    /// <summary><c>inputGradient[n, :] = sum_m outputGradient[n, m] weight[m, :]</c> for every row (overwrites).</summary>
    public static void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, Span<float> inputGradient, int inFeatures, int outFeatures)
    {
        var rows = SpanChecks.Rows(outputGradient.Length, outFeatures, nameof(outputGradient));
        SpanChecks.Length(outFeatures * inFeatures, weight.Length, nameof(weight));
        SpanChecks.Length(rows * inFeatures, inputGradient.Length, nameof(inputGradient));
        for (var n = 0; n < rows; n++)
        {
            var dy = outputGradient.Slice(n * outFeatures, outFeatures);
            var dx = inputGradient.Slice(n * inFeatures, inFeatures);
            dx.Clear();
            for (var m = 0; m < outFeatures; m++)
                TensorPrimitives.MultiplyAdd(weight.Slice(m * inFeatures, inFeatures), dy[m], dx, dx);
        }
    }

    /// <summary>
    /// For the block of output features starting at <paramref name="firstOut"/> (as many as <paramref name="weightGradient"/>
    /// holds rows): <c>weightGradient[m, :] += sum_n outputGradient[n, m] input[n, :]</c> and, when non-empty,
    /// <c>biasGradient[m] += sum_n outputGradient[n, m]</c>, summing over n in order.
    /// </summary>
    public static void BackwardWeight(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, Span<float> weightGradient, Span<float> biasGradient,
        int inFeatures, int outFeatures, int firstOut)
    {
        var rows = SpanChecks.Rows(input.Length, inFeatures, nameof(input));
        SpanChecks.Length(rows * outFeatures, outputGradient.Length, nameof(outputGradient));
        var block = SpanChecks.Rows(weightGradient.Length, inFeatures, nameof(weightGradient));
        if (!biasGradient.IsEmpty)
            SpanChecks.Length(block, biasGradient.Length, nameof(biasGradient));
        for (var j = 0; j < block; j++)
        {
            var m = firstOut + j;
            var dw = weightGradient.Slice(j * inFeatures, inFeatures);
            var biasSum = 0f;
            for (var n = 0; n < rows; n++)
            {
                var g = outputGradient[n * outFeatures + m];
                biasSum += g;
                TensorPrimitives.MultiplyAdd(input.Slice(n * inFeatures, inFeatures), g, dw, dw);
            }
            if (!biasGradient.IsEmpty)
                biasGradient[j] += biasSum;
        }
    }

    private static void Dot4(ReadOnlySpan<float> x, ReadOnlySpan<float> w4, Span<float> y4)
    {
        var k = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var w0 = ref MemoryMarshal.GetReference(w4);
        ref var w1 = ref Unsafe.Add(ref w0, k);
        ref var w2 = ref Unsafe.Add(ref w0, 2 * k);
        ref var w3 = ref Unsafe.Add(ref w0, 3 * k);
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero;
        var a3 = Vector256<float>.Zero;
        var i = 0;
        for (; i + Vector256<float>.Count <= k; i += Vector256<float>.Count)
        {
            var xv = Vector256.LoadUnsafe(ref xr, (nuint)i);
            a0 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w0, (nuint)i), a0);
            a1 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w1, (nuint)i), a1);
            a2 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w2, (nuint)i), a2);
            a3 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w3, (nuint)i), a3);
        }
        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (; i < k; i++)
        {
            var xv = Unsafe.Add(ref xr, i);
            s0 += xv * Unsafe.Add(ref w0, i);
            s1 += xv * Unsafe.Add(ref w1, i);
            s2 += xv * Unsafe.Add(ref w2, i);
            s3 += xv * Unsafe.Add(ref w3, i);
        }
        y4[0] = s0;
        y4[1] = s1;
        y4[2] = s2;
        y4[3] = s3;
    }
}
