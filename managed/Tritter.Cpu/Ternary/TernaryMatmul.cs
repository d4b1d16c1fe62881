using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance.Buffers;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// The packed ternary matmul for inference, <c>Y[M, N] = X[M, K] (Q[N, K] * scale)^T + bias</c>, multi-threaded over
/// output rows. Float activations serve the reference scheme (W1.58A16); int8 activations, quantised per token by
/// absmax and accumulated exactly in integers, serve the paper scheme (W1.58A8). Either works with either kind of
/// scale; the weights' <see cref="PackedTernaryMatrix.Scheme"/> picks one in <see cref="Multiply"/>.
/// </summary>
public static class TernaryMatmul
{
    /// <summary>Float activations for the reference scheme, int8 for the paper scheme.</summary>
    public static void Multiply(ReadOnlySpan<float> x, int m, PackedTernaryMatrix weights, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (weights.Scheme == TernaryScheme.Paper)
            MultiplyInt8(x, m, weights, bias, y);
        else
            MultiplyFloat(x, m, weights, bias, y);
    }

    /// <summary>
    /// <c>y[r, n] = scale(n) sum_k q[n, k] x[r, k] + bias[n]</c> in float32. <paramref name="x"/> is <c>[m, K]</c>,
    /// <paramref name="y"/> <c>[m, N]</c>, <paramref name="bias"/> empty or <c>[N]</c>.
    /// </summary>
    public static void MultiplyFloat(ReadOnlySpan<float> x, int m, PackedTernaryMatrix weights, ReadOnlySpan<float> bias, Span<float> y) =>
        MultiplyFloat(x, m, weights.Words, weights.Rows, weights.Columns, weights.Scales, bias, y);

    /// <summary>
    /// <c>y[r, n] = scale(n) (max|x_r| / 127) sum_k q[n, k] x_q[r, k] + bias[n]</c> with <c>x_q</c> from
    /// <see cref="Int8Activations.Quantize"/>; shapes as for float activations.
    /// </summary>
    public static void MultiplyInt8(ReadOnlySpan<float> x, int m, PackedTernaryMatrix weights, ReadOnlySpan<float> bias, Span<float> y) =>
        MultiplyInt8(x, m, weights.Words, weights.Rows, weights.Columns, weights.Scales, bias, y);

    /// <summary>
    /// Float activations on packed words laid out as <see cref="TernaryPacking"/> says (<paramref name="rows"/> = N,
    /// <paramref name="columns"/> = K before padding); <paramref name="scales"/> holds one scale per row or one in all.
    /// The words are not validated here: a code 0b11 counts as 0.
    /// </summary>
    public static void MultiplyFloat(ReadOnlySpan<float> x, int m, ReadOnlySpan<uint> words, int rows, int columns, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y) =>
        MultiplyFloat(x, m, words, rows, columns, scales, bias, y, TernaryKernelPaths.Best);

    /// <summary>Int8 activations on packed words; arguments as for float activations.</summary>
    public static void MultiplyInt8(ReadOnlySpan<float> x, int m, ReadOnlySpan<uint> words, int rows, int columns, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y) =>
        MultiplyInt8(x, m, words, rows, columns, scales, bias, y, TernaryKernelPaths.Best);

    /// <summary>
    /// Rewrites packed words in place into the layout <see cref="MultiplyFloatArranged"/> reads on this machine, for
    /// weights that stay fixed: interleaved row groups on AVX-512 (<see cref="TernaryFloatLutKernel.Interleave"/>), the
    /// canonical layout elsewhere.
    /// </summary>
    public static void ArrangeFloat(Span<uint> words, int rows, int columns)
    {
        if (words.Length != (long)rows * TernaryPacking.WordsPerRow(columns))
            throw new ArgumentException($"{rows} x {columns} packed weights need {(long)rows * TernaryPacking.WordsPerRow(columns)} words, got {words.Length}", nameof(words));
        if (TernaryFloatKernel.Interleaves(TernaryKernelPaths.Best))
            TernaryFloatLutKernel.Interleave(words, rows, TernaryPacking.WordsPerRow(columns));
    }

    /// <summary>Float activations on words rewritten by <see cref="ArrangeFloat"/>; arguments as for <see cref="MultiplyFloat(ReadOnlySpan{float}, int, ReadOnlySpan{uint}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static void MultiplyFloatArranged(ReadOnlySpan<float> x, int m, ReadOnlySpan<uint> words, int rows, int columns, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y)
    {
        var path = TernaryKernelPaths.Best;
        MultiplyFloat(x, m, words, rows, columns, scales, bias, y, path, TernaryFloatKernel.Interleaves(path));
    }

    internal static void MultiplyFloat(ReadOnlySpan<float> x, int m, PackedTernaryMatrix weights, ReadOnlySpan<float> bias, Span<float> y, TernaryKernelPath path) =>
        MultiplyFloat(x, m, weights.Words, weights.Rows, weights.Columns, weights.Scales, bias, y, path);

    internal static void MultiplyInt8(ReadOnlySpan<float> x, int m, PackedTernaryMatrix weights, ReadOnlySpan<float> bias, Span<float> y, TernaryKernelPath path) =>
        MultiplyInt8(x, m, weights.Words, weights.Rows, weights.Columns, weights.Scales, bias, y, path);

    internal static unsafe void MultiplyFloat(ReadOnlySpan<float> x, int m, ReadOnlySpan<uint> words, int n, int k, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y, TernaryKernelPath path, bool interleaved = false)
    {
        CheckShapes(x.Length, m, words.Length, n, k, scales.Length, bias.Length, y.Length);
        var kp = TernaryPacking.PaddedColumns(k);
        using var padded = MemoryOwner<float>.Allocate(checked(m * kp), AllocationMode.Clear);
        for (var r = 0; r < m; r++)
            x.Slice(r * k, k).CopyTo(padded.Span.Slice(r * kp, k));
        fixed (float* xp = padded.Span)
        fixed (uint* wp = words)
        fixed (float* yp = y)
        {
            var (xa, wa, ya) = ((nint)xp, (nint)wp, (nint)yp);
            RowBlocks.For(n, (long)m * kp, (start, end) =>
                TernaryFloatKernel.Rows((float*)xa, m, kp, (uint*)wa, n, start, end, (float*)ya, path, interleaved),
                interleaved ? TernaryFloatLutKernel.GroupRows : TileShape.WeightRows);
        }
        using var combined = MemoryOwner<float>.Allocate(scales.Length);
        for (var r = 0; r < m; r++)
            ScaleAndBias(y.Slice(r * n, n), scales, 1f, bias, combined.Span);
    }

    internal static unsafe void MultiplyInt8(ReadOnlySpan<float> x, int m, ReadOnlySpan<uint> words, int n, int k, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y, TernaryKernelPath path)
    {
        CheckShapes(x.Length, m, words.Length, n, k, scales.Length, bias.Length, y.Length);
        var kp = TernaryPacking.PaddedColumns(k);
        using var natural = MemoryOwner<sbyte>.Allocate(checked(m * kp), AllocationMode.Clear);
        using var arranged = MemoryOwner<sbyte>.Allocate(checked(m * kp));
        using var dots = MemoryOwner<int>.Allocate(m * n);
        using var rowScaleOwner = MemoryOwner<float>.Allocate(m);
        using var combined = MemoryOwner<float>.Allocate(scales.Length);
        var rowScales = rowScaleOwner.Span;
        for (var r = 0; r < m; r++)
            rowScales[r] = Int8Activations.Quantize(x.Slice(r * k, k), natural.Span.Slice(r * kp, k));
        TernaryInt8Kernel.Arrange(natural.Span, arranged.Span, kp, path);
        fixed (sbyte* xp = arranged.Span)
        fixed (uint* wp = words)
        fixed (int* dp = dots.Span)
        {
            var (xa, wa, da) = ((nint)xp, (nint)wp, (nint)dp);
            RowBlocks.For(n, (long)m * kp, (start, end) =>
                TernaryInt8Kernel.Rows((sbyte*)xa, m, kp, (uint*)wa, n, start, end, (int*)da, path));
        }
        for (var r = 0; r < m; r++)
        {
            // The vector paths sum (q + 1) x; subtracting the row's sum of activations leaves sum q x.
            var offset = TernaryInt8Kernel.AddsActivationSum(path) ? ActivationSum(natural.Span.Slice(r * kp, k)) : 0;
            var row = y.Slice(r * n, n);
            var rowDots = dots.Span.Slice(r * n, n);
            for (var c = 0; c < n; c++)
                row[c] = rowDots[c] - offset;
            ScaleAndBias(row, scales, rowScales[r], bias, combined.Span);
        }
    }

    private static int ActivationSum(ReadOnlySpan<sbyte> row)
    {
        var sum = 0;
        foreach (var value in row)
            sum += value;
        return sum;
    }

    /// <summary>
    /// <c>row[n] = row[n] (scale(n) rowScale) + bias[n]</c>: the two scales are multiplied first whether the weights have
    /// one scale or one per row, so that rows stacked from per-tensor-scale matrices, each scale repeated over its rows
    /// (generation's fused projections), give the bits of the separate products.
    /// </summary>
    private static void ScaleAndBias(Span<float> row, ReadOnlySpan<float> scales, float rowScale, ReadOnlySpan<float> bias, Span<float> combined)
    {
        if (scales.Length == 1)
        {
            if (bias.IsEmpty)
                TensorPrimitives.Multiply(row, scales[0] * rowScale, row);
            else
                TensorPrimitives.MultiplyAdd(row, scales[0] * rowScale, bias, row);
            return;
        }
        TensorPrimitives.Multiply(scales, rowScale, combined);
        if (bias.IsEmpty)
            TensorPrimitives.Multiply(row, combined, row);
        else
            TensorPrimitives.MultiplyAdd(row, combined, bias, row);
    }

    private static void CheckShapes(int xLength, int m, int wordsLength, int rows, int columns, int scalesLength, int biasLength, int yLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (wordsLength != (long)rows * TernaryPacking.WordsPerRow(columns))
            throw new ArgumentException($"{rows} x {columns} packed weights need {(long)rows * TernaryPacking.WordsPerRow(columns)} words, got {wordsLength}", nameof(wordsLength));
        if (scalesLength != 1 && scalesLength != rows)
            throw new ArgumentException($"scales holds {scalesLength} values, not 1 or {rows}", nameof(scalesLength));
        if (xLength != (long)m * columns)
            throw new ArgumentException($"x holds {xLength} values, not {m} x {columns}", nameof(xLength));
        if (yLength != (long)m * rows)
            throw new ArgumentException($"y holds {yLength} values, not {m} x {rows}", nameof(yLength));
        if (biasLength != 0 && biasLength != rows)
            throw new ArgumentException($"bias holds {biasLength} values, not 0 or {rows}", nameof(biasLength));
    }
}
