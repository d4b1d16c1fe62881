using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tritter.Cpu.Ops;

/// <summary>
/// Dense products of a linear layer with weights <c>[out, in]</c>. Every product is one kernel,
/// <see cref="MultiplyTransposed"/> (<c>c[r, j] (+)= a[r, :] . b[j, :]</c>, both operands read along contiguous rows, two rows of a by four of b per pass):
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
        Span<float> tile = stackalloc float[8];
        var r = 0;
        // Two rows of a against four rows of b: eight accumulators, six loads per eight multiply-adds.
        for (; r + 2 <= rows; r += 2)
        {
            var j = 0;
            for (; j + 4 <= columns; j += 4)
            {
                Dot2x4(a.Slice(r * inner, 2 * inner), b.Slice(j * inner, 4 * inner), tile);
                Store(tile[..4], c.Slice(r * columns + j, 4), accumulate);
                Store(tile[4..], c.Slice((r + 1) * columns + j, 4), accumulate);
            }
            for (; j < columns; j++)
            {
                Store(TensorPrimitives.Dot(a.Slice(r * inner, inner), b.Slice(j * inner, inner)), ref c[r * columns + j], accumulate);
                Store(TensorPrimitives.Dot(a.Slice((r + 1) * inner, inner), b.Slice(j * inner, inner)), ref c[(r + 1) * columns + j], accumulate);
            }
        }
        for (; r < rows; r++)
            for (var j = 0; j < columns; j++)
                Store(TensorPrimitives.Dot(a.Slice(r * inner, inner), b.Slice(j * inner, inner)), ref c[r * columns + j], accumulate);
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

    private static void Store(ReadOnlySpan<float> values, Span<float> destination, bool accumulate)
    {
        for (var i = 0; i < values.Length; i++)
            destination[i] = accumulate ? destination[i] + values[i] : values[i];
    }

    private static void Store(float value, ref float destination, bool accumulate) => destination = accumulate ? destination + value : value;

    /// <summary><c>y[4 i + j] = x_i . w_j</c> for two rows x of <paramref name="x2"/> and four rows w of <paramref name="w4"/>.</summary>
    private static void Dot2x4(ReadOnlySpan<float> x2, ReadOnlySpan<float> w4, Span<float> y8)
    {
        var k = x2.Length / 2;
        ref var x0 = ref MemoryMarshal.GetReference(x2);
        ref var x1 = ref Unsafe.Add(ref x0, k);
        ref var w0 = ref MemoryMarshal.GetReference(w4);
        ref var w1 = ref Unsafe.Add(ref w0, k);
        ref var w2 = ref Unsafe.Add(ref w0, 2 * k);
        ref var w3 = ref Unsafe.Add(ref w0, 3 * k);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        var i = 0;
        for (; i + Vector256<float>.Count <= k; i += Vector256<float>.Count)
        {
            var u = (nuint)i;
            var v0 = Vector256.LoadUnsafe(ref x0, u);
            var v1 = Vector256.LoadUnsafe(ref x1, u);
            var b = Vector256.LoadUnsafe(ref w0, u);
            a00 = Vector256.FusedMultiplyAdd(v0, b, a00);
            a10 = Vector256.FusedMultiplyAdd(v1, b, a10);
            b = Vector256.LoadUnsafe(ref w1, u);
            a01 = Vector256.FusedMultiplyAdd(v0, b, a01);
            a11 = Vector256.FusedMultiplyAdd(v1, b, a11);
            b = Vector256.LoadUnsafe(ref w2, u);
            a02 = Vector256.FusedMultiplyAdd(v0, b, a02);
            a12 = Vector256.FusedMultiplyAdd(v1, b, a12);
            b = Vector256.LoadUnsafe(ref w3, u);
            a03 = Vector256.FusedMultiplyAdd(v0, b, a03);
            a13 = Vector256.FusedMultiplyAdd(v1, b, a13);
        }
        y8[0] = Vector256.Sum(a00);
        y8[1] = Vector256.Sum(a01);
        y8[2] = Vector256.Sum(a02);
        y8[3] = Vector256.Sum(a03);
        y8[4] = Vector256.Sum(a10);
        y8[5] = Vector256.Sum(a11);
        y8[6] = Vector256.Sum(a12);
        y8[7] = Vector256.Sum(a13);
        for (; i < k; i++)
        {
            var (v0, v1) = (Unsafe.Add(ref x0, i), Unsafe.Add(ref x1, i));
            y8[0] += v0 * Unsafe.Add(ref w0, i);
            y8[1] += v0 * Unsafe.Add(ref w1, i);
            y8[2] += v0 * Unsafe.Add(ref w2, i);
            y8[3] += v0 * Unsafe.Add(ref w3, i);
            y8[4] += v1 * Unsafe.Add(ref w0, i);
            y8[5] += v1 * Unsafe.Add(ref w1, i);
            y8[6] += v1 * Unsafe.Add(ref w2, i);
            y8[7] += v1 * Unsafe.Add(ref w3, i);
        }
    }
}
