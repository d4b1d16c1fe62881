using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Packed ternary weights times float32 activations: <c>dots[r, n] = sum_k q[n, k] x[r, k]</c>, unscaled. The AVX-512
/// path decodes one 32-bit word (16 weights) per step with a variable shift that moves each 2-bit code to the bottom of
/// its lane and a 16-entry table lookup (<c>vpermps</c>) that maps it to 0, +1 or -1, then multiply-adds the activations.
/// Floor at batch 1: 4 bytes of weights per 16 multiply-adds, so it is decode-bound rather than bandwidth-bound.
/// </summary>
internal static unsafe class TernaryFloatKernel
{
    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/>; <paramref name="x"/> is <c>[m, paddedColumns]</c> with zeros in the padding.
    /// </summary>
    public static void Rows(float* x, int m, int paddedColumns, uint* words, int rows, int start, int end, float* dots, TernaryKernelPath path)
    {
        var wordsPerRow = paddedColumns / TernaryPacking.WeightsPerWord;
        for (var r0 = 0; r0 < m; r0 += TileShape.MaxRows)
        {
            var xr = x + (long)r0 * paddedColumns;
            var dr = dots + (long)r0 * rows;
            var count = Math.Min(TileShape.MaxRows, m - r0);
            if (path == TernaryKernelPath.Portable)
            {
                Portable(xr, count, paddedColumns, words, wordsPerRow, rows, start, end, dr);
                continue;
            }
            switch (count)
            {
                case 1: Avx512Rows<OneRow>(xr, paddedColumns, words, wordsPerRow, rows, start, end, dr); break;
                case 2: Avx512Rows<TwoRows>(xr, paddedColumns, words, wordsPerRow, rows, start, end, dr); break;
                case 3: Avx512Rows<ThreeRows>(xr, paddedColumns, words, wordsPerRow, rows, start, end, dr); break;
                default: Avx512Rows<FourRows>(xr, paddedColumns, words, wordsPerRow, rows, start, end, dr); break;
            }
        }
    }

    private static void Portable(float* x, int count, int paddedColumns, uint* words, int wordsPerRow, int rows, int start, int end, float* dots)
    {
        ReadOnlySpan<float> values = [0f, 1f, -1f, 0f];
        for (var n = start; n < end; n++)
        {
            var row = words + (long)n * wordsPerRow;
            for (var r = 0; r < count; r++)
            {
                var xr = x + (long)r * paddedColumns;
                var sum = 0f;
                for (var k = 0; k < paddedColumns; k++)
                    sum += values[(int)(row[k / TernaryPacking.WeightsPerWord] >> (2 * (k % TernaryPacking.WeightsPerWord))) & 3] * xr[k];
                dots[(long)r * rows + n] = sum;
            }
        }
    }

    private static void Avx512Rows<T>(float* x, int paddedColumns, uint* words, int wordsPerRow, int rows, int start, int end, float* dots)
        where T : struct, ITileRows
    {
        var sums = stackalloc float[TileShape.MaxRows * TileShape.WeightRows];
        for (var n = start; n < end; n += TileShape.WeightRows)
        {
            // A partial tile at the end repeats its last row; the repeats' sums are discarded.
            var w0 = words + (long)n * wordsPerRow;
            var w1 = words + (long)Math.Min(n + 1, end - 1) * wordsPerRow;
            var w2 = words + (long)Math.Min(n + 2, end - 1) * wordsPerRow;
            var w3 = words + (long)Math.Min(n + 3, end - 1) * wordsPerRow;
            Avx512Tile<T>(x, paddedColumns, w0, w1, w2, w3, wordsPerRow, sums);
            for (var r = 0; r < T.Count; r++)
            {
                for (var c = 0; c < TileShape.WeightRows && n + c < end; c++)
                    dots[(long)r * rows + n + c] = sums[r * TileShape.WeightRows + c];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile<T>(float* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int wordsPerRow, float* sums)
        where T : struct, ITileRows
    {
        // Entry i is the value of the code in i's low two bits; the upper bits of the index belong to the next code.
        var table = Vector512.Create(0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f);
        var shifts = Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (var j = 0; j < wordsPerRow; j++)
        {
            var q0 = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogicalVariable(Vector512.Create(w0[j]), shifts).AsInt32());
            var q1 = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogicalVariable(Vector512.Create(w1[j]), shifts).AsInt32());
            var q2 = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogicalVariable(Vector512.Create(w2[j]), shifts).AsInt32());
            var q3 = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogicalVariable(Vector512.Create(w3[j]), shifts).AsInt32());
            var offset = (long)j * TernaryPacking.WeightsPerWord;
            var x0 = Vector512.Load(x + offset);
            a00 = Avx512F.FusedMultiplyAdd(q0, x0, a00);
            a01 = Avx512F.FusedMultiplyAdd(q1, x0, a01);
            a02 = Avx512F.FusedMultiplyAdd(q2, x0, a02);
            a03 = Avx512F.FusedMultiplyAdd(q3, x0, a03);
            if (T.Count > 1)
            {
                var x1 = Vector512.Load(x + stride + offset);
                a10 = Avx512F.FusedMultiplyAdd(q0, x1, a10);
                a11 = Avx512F.FusedMultiplyAdd(q1, x1, a11);
                a12 = Avx512F.FusedMultiplyAdd(q2, x1, a12);
                a13 = Avx512F.FusedMultiplyAdd(q3, x1, a13);
            }
            if (T.Count > 2)
            {
                var x2 = Vector512.Load(x + 2L * stride + offset);
                a20 = Avx512F.FusedMultiplyAdd(q0, x2, a20);
                a21 = Avx512F.FusedMultiplyAdd(q1, x2, a21);
                a22 = Avx512F.FusedMultiplyAdd(q2, x2, a22);
                a23 = Avx512F.FusedMultiplyAdd(q3, x2, a23);
            }
            if (T.Count > 3)
            {
                var x3 = Vector512.Load(x + 3L * stride + offset);
                a30 = Avx512F.FusedMultiplyAdd(q0, x3, a30);
                a31 = Avx512F.FusedMultiplyAdd(q1, x3, a31);
                a32 = Avx512F.FusedMultiplyAdd(q2, x3, a32);
                a33 = Avx512F.FusedMultiplyAdd(q3, x3, a33);
            }
        }
        (sums[0], sums[1], sums[2], sums[3]) = (Vector512.Sum(a00), Vector512.Sum(a01), Vector512.Sum(a02), Vector512.Sum(a03));
        (sums[4], sums[5], sums[6], sums[7]) = (Vector512.Sum(a10), Vector512.Sum(a11), Vector512.Sum(a12), Vector512.Sum(a13));
        (sums[8], sums[9], sums[10], sums[11]) = (Vector512.Sum(a20), Vector512.Sum(a21), Vector512.Sum(a22), Vector512.Sum(a23));
        (sums[12], sums[13], sums[14], sums[15]) = (Vector512.Sum(a30), Vector512.Sum(a31), Vector512.Sum(a32), Vector512.Sum(a33));
    }
}
