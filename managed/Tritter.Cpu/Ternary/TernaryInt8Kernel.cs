using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Packed ternary weights times int8 activations, accumulated exactly in integers: <c>dots[r, n] = sum_k q[n, k] x[r, k]</c>.
/// The AVX-512 path decodes 64 weights per step from one 16-byte load: the load is broadcast to all four 128-bit
/// lanes, <c>vpmultishiftqb</c> moves every 2-bit code to the bottom of its own byte, and <c>vpermb</c> maps the code to
/// <c>q + 1</c> in {0, 1, 2}, an unsigned byte that <c>vpmaddubsw</c> multiplies with the signed activations;
/// <c>sum (q + 1) x - sum x</c> is the dot product. The broadcast puts the codes in a fixed permuted order, so the
/// activations are arranged in that order once per call (<see cref="Arrange"/>). Floor at batch 1: 16 bytes of weights
/// per 64 multiply-adds, so a 4096 x 14336 matrix streams 14.7 MB.
/// </summary>
internal static unsafe class TernaryInt8Kernel
{
    /// <summary>Weights decoded per step: the column alignment of the packing.</summary>
    private const int BlockWeights = TernaryPacking.ColumnAlignment;

    /// <summary>
    /// Blocks summed in 16-bit lanes before widening: a lane gains at most 2 x 2 x 127 = 508 per block, and
    /// 64 x 508 = 32512 stays below 32767.
    /// </summary>
    private const int BlocksPerGroup = 64;

    /// <summary>
    /// Copies int8 activations of <paramref name="m"/> rows of <paramref name="paddedColumns"/> into the order the
    /// kernel of <paramref name="path"/> reads them in.
    /// </summary>
    public static void Arrange(ReadOnlySpan<sbyte> natural, Span<sbyte> arranged, TernaryKernelPath path)
    {
        if (path == TernaryKernelPath.Portable)
        {
            natural.CopyTo(arranged);
            return;
        }
        // Byte p = 8i + j of a decoded block holds code 16 (i / 2) + 2j of qword i % 2: block position 32 (i % 2) + 8 (i / 2) + j.
        for (var block = 0; block < natural.Length; block += BlockWeights)
        {
            for (var p = 0; p < BlockWeights; p++)
            {
                var (i, j) = (p / 8, p % 8);
                arranged[block + p] = natural[block + 32 * (i % 2) + 8 * (i / 2) + j];
            }
        }
    }

    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/>; <paramref name="x"/> is <c>[m, paddedColumns]</c>, zero-padded, in <see cref="Arrange"/>'s order.
    /// </summary>
    public static void Rows(sbyte* x, int m, int paddedColumns, uint* words, int rows, int start, int end, int* dots, TernaryKernelPath path)
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

    private static void Portable(sbyte* x, int count, int paddedColumns, uint* words, int wordsPerRow, int rows, int start, int end, int* dots)
    {
        ReadOnlySpan<int> values = [0, 1, -1, 0];
        for (var n = start; n < end; n++)
        {
            var row = words + (long)n * wordsPerRow;
            for (var r = 0; r < count; r++)
            {
                var xr = x + (long)r * paddedColumns;
                var sum = 0;
                for (var k = 0; k < paddedColumns; k++)
                    sum += values[(int)(row[k / TernaryPacking.WeightsPerWord] >> (2 * (k % TernaryPacking.WeightsPerWord))) & 3] * xr[k];
                dots[(long)r * rows + n] = sum;
            }
        }
    }

    private static void Avx512Rows<T>(sbyte* x, int paddedColumns, uint* words, int wordsPerRow, int rows, int start, int end, int* dots)
        where T : struct, ITileRows
    {
        // The kernel sums (q + 1) x; subtracting each activation row's sum leaves sum q x.
        var activationSums = stackalloc int[TileShape.MaxRows];
        for (var r = 0; r < T.Count; r++)
        {
            var sum = 0;
            for (var k = 0; k < paddedColumns; k++)
                sum += x[(long)r * paddedColumns + k];
            activationSums[r] = sum;
        }
        var sums = stackalloc int[TileShape.MaxRows * TileShape.WeightRows];
        for (var n = start; n < end; n += TileShape.WeightRows)
        {
            // A partial tile at the end repeats its last row; the repeats' sums are discarded.
            var w0 = words + (long)n * wordsPerRow;
            var w1 = words + (long)Math.Min(n + 1, end - 1) * wordsPerRow;
            var w2 = words + (long)Math.Min(n + 2, end - 1) * wordsPerRow;
            var w3 = words + (long)Math.Min(n + 3, end - 1) * wordsPerRow;
            new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
            Avx512Tile<T>(x, paddedColumns, w0, w1, w2, w3, paddedColumns / BlockWeights, sums);
            for (var r = 0; r < T.Count; r++)
            {
                for (var c = 0; c < TileShape.WeightRows && n + c < end; c++)
                    dots[(long)r * rows + n + c] = sums[r * TileShape.WeightRows + c] - activationSums[r];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int blocks, int* sums)
        where T : struct, ITileRows
    {
        // Output qword i takes its codes from source qword i % 2 starting at bit 16 (i / 2); byte j of it from bit 2j further.
        var control = Vector512.Create(
            0x0E0C0A0806040200UL, 0x0E0C0A0806040200UL, 0x1E1C1A1816141210UL, 0x1E1C1A1816141210UL,
            0x2E2C2A2826242220UL, 0x2E2C2A2826242220UL, 0x3E3C3A3836343230UL, 0x3E3C3A3836343230UL).AsByte();
        // vpermb reads the low 6 bits of each byte; entry i is q + 1 for the code in i's low two bits.
        var table = Vector512.Create(0x0100_0201_0100_0201UL).AsByte();
        var ones = Vector512<short>.One;
        for (var group = 0; group < blocks; group += BlocksPerGroup)
        {
            var groupEnd = Math.Min(blocks, group + BlocksPerGroup);
            Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector512<short> s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<short> s20 = default, s21 = default, s22 = default, s23 = default;
            Vector512<short> s30 = default, s31 = default, s32 = default, s33 = default;
            for (var b = group; b < groupEnd; b++)
            {
                var wordOffset = (long)b * (BlockWeights / TernaryPacking.WeightsPerWord);
                var d0 = Decode(w0 + wordOffset, control, table);
                var d1 = Decode(w1 + wordOffset, control, table);
                var d2 = Decode(w2 + wordOffset, control, table);
                var d3 = Decode(w3 + wordOffset, control, table);
                var offset = (long)b * BlockWeights;
                var x0 = Vector512.Load(x + offset);
                s00 += Avx512BW.MultiplyAddAdjacent(d0, x0);
                s01 += Avx512BW.MultiplyAddAdjacent(d1, x0);
                s02 += Avx512BW.MultiplyAddAdjacent(d2, x0);
                s03 += Avx512BW.MultiplyAddAdjacent(d3, x0);
                if (T.Count > 1)
                {
                    var x1 = Vector512.Load(x + stride + offset);
                    s10 += Avx512BW.MultiplyAddAdjacent(d0, x1);
                    s11 += Avx512BW.MultiplyAddAdjacent(d1, x1);
                    s12 += Avx512BW.MultiplyAddAdjacent(d2, x1);
                    s13 += Avx512BW.MultiplyAddAdjacent(d3, x1);
                }
                if (T.Count > 2)
                {
                    var x2 = Vector512.Load(x + 2L * stride + offset);
                    s20 += Avx512BW.MultiplyAddAdjacent(d0, x2);
                    s21 += Avx512BW.MultiplyAddAdjacent(d1, x2);
                    s22 += Avx512BW.MultiplyAddAdjacent(d2, x2);
                    s23 += Avx512BW.MultiplyAddAdjacent(d3, x2);
                }
                if (T.Count > 3)
                {
                    var x3 = Vector512.Load(x + 3L * stride + offset);
                    s30 += Avx512BW.MultiplyAddAdjacent(d0, x3);
                    s31 += Avx512BW.MultiplyAddAdjacent(d1, x3);
                    s32 += Avx512BW.MultiplyAddAdjacent(d2, x3);
                    s33 += Avx512BW.MultiplyAddAdjacent(d3, x3);
                }
            }
            sums[0] += Widen(s00, ones); sums[1] += Widen(s01, ones); sums[2] += Widen(s02, ones); sums[3] += Widen(s03, ones);
            sums[4] += Widen(s10, ones); sums[5] += Widen(s11, ones); sums[6] += Widen(s12, ones); sums[7] += Widen(s13, ones);
            sums[8] += Widen(s20, ones); sums[9] += Widen(s21, ones); sums[10] += Widen(s22, ones); sums[11] += Widen(s23, ones);
            sums[12] += Widen(s30, ones); sums[13] += Widen(s31, ones); sums[14] += Widen(s32, ones); sums[15] += Widen(s33, ones);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Decode(uint* words, Vector512<byte> control, Vector512<byte> table) =>
        Avx512Vbmi.PermuteVar64x8(table, Avx512Vbmi.MultiShift(control, Avx512F.BroadcastVector128ToVector512(words).AsUInt64()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector512<short> lanes, Vector512<short> ones) => Vector512.Sum(Avx512BW.MultiplyAddAdjacent(lanes, ones));
}
