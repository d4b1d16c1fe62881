using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Dense products of a linear layer with weights <c>[out, in]</c>. Every product is one kernel,
/// <see cref="MultiplyTransposed"/> (<c>c[r, j] (+)= a[r, :] . b[j, :]</c>, both operands read along contiguous rows):
/// the forward pass is <c>y = x W^T + b</c>; the backward passes transpose their operands first,
/// <c>dx = dy (W^T)^T</c> and <c>dW += (dy^T) (x^T)^T</c>. Transposing costs one pass over the data, the product
/// <c>in</c> or <c>rows</c> times more.
/// </summary>
public static class Matmul
{
    /// <summary>
    /// <c>c[r, j] = a[r, :] . b[j, :]</c> (or <c>+=</c> when <paramref name="accumulate"/>), for every row r of
    /// <paramref name="a"/> and row j of <paramref name="b"/>, both of <paramref name="inner"/> elements.
    /// </summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int inner, bool accumulate)
    {
        var rows = SpanChecks.Rows(a.Length, inner, nameof(a));
        var columns = SpanChecks.Rows(b.Length, inner, nameof(b));
        SpanChecks.Length(rows * columns, c.Length, nameof(c));
        Span<float> four = stackalloc float[4];
        for (var r = 0; r < rows; r++)
        {
            var x = a.Slice(r * inner, inner);
            var y = c.Slice(r * columns, columns);
            var j = 0;
            // Four rows of b per pass reuse each loaded slice of a four times.
            for (; j + 4 <= columns; j += 4)
            {
                Dot4(x, b.Slice(j * inner, 4 * inner), four);
                if (accumulate)
                    TensorPrimitives.Add(y.Slice(j, 4), four, y.Slice(j, 4));
                else
                    four.CopyTo(y.Slice(j, 4));
            }
            for (; j < columns; j++)
            {
                var dot = TensorPrimitives.Dot(x, b.Slice(j * inner, inner));
                y[j] = accumulate ? y[j] + dot : dot;
            }
        }
    }

    /// <summary><c>output[n, m] = input[n, :] . weight[m, :] + bias[m]</c> for every row of <paramref name="input"/>; an empty bias means none.</summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, int inFeatures, int outFeatures)
    {
        SpanChecks.Length(outFeatures * inFeatures, weight.Length, nameof(weight));
        MultiplyTransposed(input, weight, output, inFeatures, accumulate: false);
        if (bias.IsEmpty)
            return;
        SpanChecks.Length(outFeatures, bias.Length, nameof(bias));
        for (var n = 0; n < output.Length; n += outFeatures)
            TensorPrimitives.Add(output.Slice(n, outFeatures), bias, output.Slice(n, outFeatures));
    }

    /// <summary><c>destination[c, r] = source[r, c]</c> for a <paramref name="rows"/> x <paramref name="columns"/> source, in cache-sized tiles.</summary>
    public static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int columns)
    {
        const int Tile = 32;
        SpanChecks.Length(rows * columns, source.Length, nameof(source));
        SpanChecks.Length(rows * columns, destination.Length, nameof(destination));
        for (var r0 = 0; r0 < rows; r0 += Tile)
            for (var c0 = 0; c0 < columns; c0 += Tile)
                for (var r = r0; r < Math.Min(r0 + Tile, rows); r++)
                    for (var c = c0; c < Math.Min(c0 + Tile, columns); c++)
                        destination[c * rows + r] = source[r * columns + c];
    }

    /// <summary><c>destination[r] += sum of row r</c> of <paramref name="matrix"/>, rows of <paramref name="columns"/> (the bias gradient from the transposed output gradient).</summary>
    public static void AccumulateRowSums(ReadOnlySpan<float> matrix, Span<float> destination, int columns)
    {
        SpanChecks.Length(destination.Length * columns, matrix.Length, nameof(matrix));
        for (var r = 0; r < destination.Length; r++)
            destination[r] += TensorPrimitives.Sum(matrix.Slice(r * columns, columns));
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
