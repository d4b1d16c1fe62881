using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Packed ternary weights times int8 activations, accumulated exactly in integers: <c>dots[r, n] = sum_k q[n, k] x[r, k]</c>.
/// The vector paths decode the 64 weights of one 16-byte load into bytes holding <c>q + 1</c> in {0, 1, 2}, an unsigned
/// operand that <c>vpmaddubsw</c> multiplies with the signed activations; <c>sum (q + 1) x - sum x</c> is the dot
/// product. AVX-512 broadcasts the load to all four 128-bit lanes, moves every code to the bottom of its own byte with
/// <c>vpmultishiftqb</c> and maps it with <c>vpermb</c>; AVX2 broadcasts to both lanes, shifts each 64-bit quarter by
/// its own amount (<c>vpsrlvq</c>), masks and maps with <c>vpshufb</c>. Either leaves the codes in a fixed permuted
/// order, so the activations are put in that order once per call (<see cref="Arrange"/>). Floor at batch 1: 16 bytes
/// of weights per 64 multiply-adds, so a 4096 x 14336 matrix streams 14.7 MB.
/// </summary>
internal static unsafe class TernaryInt8Kernel
{
    /// <summary>Weights decoded per step: the column alignment of the packing.</summary>
    private const int BlockWeights = TernaryPacking.ColumnAlignment;

    /// <summary>
    /// Copies int8 activations (rows of a multiple of 64) into the order the kernel of <paramref name="path"/> reads
    /// them in.
    /// </summary>
    public static void Arrange(ReadOnlySpan<sbyte> natural, Span<sbyte> arranged, TernaryKernelPath path)
    {
        for (var block = 0; block < natural.Length; block += BlockWeights)
        {
            for (var p = 0; p < BlockWeights; p++)
                arranged[block + p] = natural[block + NaturalPosition(path, p)];
        }
    }

    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/>; <paramref name="x"/> is <c>[m, paddedColumns]</c>, zero-padded, in <see cref="Arrange"/>'s order.
    /// </summary>
    public static void Rows(sbyte* x, int m, int paddedColumns, uint* words, int rows, int start, int end, int* dots, TernaryKernelPath path)
    {
        var wordsPerRow = paddedColumns / TernaryPacking.WeightsPerWord;
        var tileRows = TileShape.Rows(path);
        for (var r0 = 0; r0 < m; r0 += tileRows)
        {
            var xr = x + (long)r0 * paddedColumns;
            var dr = dots + (long)r0 * rows;
            var count = Math.Min(tileRows, m - r0);
            if (path == TernaryKernelPath.Portable)
            {
                TileLoop.Portable(xr, count, paddedColumns, words, wordsPerRow, rows, start, end, dr);
                continue;
            }
            TileLoop.Run(Tile(path, count), count, xr, paddedColumns, words, wordsPerRow, paddedColumns / BlockWeights, rows, start, end, dr);
            // The tiles sum (q + 1) x; subtracting each activation row's sum leaves sum q x.
            for (var r = 0; r < count; r++)
            {
                var activationSum = 0;
                for (var k = 0; k < paddedColumns; k++)
                    activationSum += xr[(long)r * paddedColumns + k];
                for (var n = start; n < end; n++)
                    dr[(long)r * rows + n] -= activationSum;
            }
        }
    }

    /// <summary>Where byte <paramref name="p"/> of a decoded block comes from in the block's natural order.</summary>
    private static int NaturalPosition(TernaryKernelPath path, int p) => path switch
    {
        // Byte 8i + j holds the code at bit 16 (i / 2) + 2j of qword i % 2.
        TernaryKernelPath.Avx512 => 32 * (p / 8 % 2) + 8 * (p / 16) + p % 8,
        // Vector p / 32, 128-bit lane p / 16 % 2, byte p % 16: bits 2 (2 vector + lane) of source byte p % 16.
        TernaryKernelPath.Avx2 => 4 * (p % 16) + 2 * (p / 32) + p / 16 % 2,
        _ => p,
    };

    private static delegate*<sbyte*, int, uint*, uint*, uint*, uint*, int, int*, void> Tile(TernaryKernelPath path, int count) => (path, count) switch
    {
        (TernaryKernelPath.Avx2, 1) => &Avx2Tile<OneRow>,
        (TernaryKernelPath.Avx2, _) => &Avx2Tile<TwoRows>,
        (_, 1) => &Avx512Tile<OneRow>,
        (_, 2) => &Avx512Tile<TwoRows>,
        (_, 3) => &Avx512Tile<ThreeRows>,
        _ => &Avx512Tile<FourRows>,
    };


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int blocks, int* sums)
        where T : struct, ITileRows
    {
        // A 16-bit lane gains at most 2 x 2 x 127 = 508 per block, and 64 x 508 = 32512 stays below 32767.
        const int blocksPerGroup = 64;
        // Output qword i takes its codes from source qword i % 2 starting at bit 16 (i / 2); byte j of it from bit 2j further.
        var control = Vector512.Create(
            0x0E0C0A0806040200UL, 0x0E0C0A0806040200UL, 0x1E1C1A1816141210UL, 0x1E1C1A1816141210UL,
            0x2E2C2A2826242220UL, 0x2E2C2A2826242220UL, 0x3E3C3A3836343230UL, 0x3E3C3A3836343230UL).AsByte();
        // vpermb reads the low 6 bits of each byte; entry i is q + 1 for the code in i's low two bits.
        var table = Vector512.Create(0x0100_0201_0100_0201UL).AsByte();
        var ones = Vector512<short>.One;
        new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
        for (var group = 0; group < blocks; group += blocksPerGroup)
        {
            var groupEnd = Math.Min(blocks, group + blocksPerGroup);
            Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector512<short> s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<short> s20 = default, s21 = default, s22 = default, s23 = default;
            Vector512<short> s30 = default, s31 = default, s32 = default, s33 = default;
            for (var b = group; b < groupEnd; b++)
            {
                var wordOffset = (long)b * (BlockWeights / TernaryPacking.WeightsPerWord);
                var d0 = Avx512Decode(w0 + wordOffset, control, table);
                var d1 = Avx512Decode(w1 + wordOffset, control, table);
                var d2 = Avx512Decode(w2 + wordOffset, control, table);
                var d3 = Avx512Decode(w3 + wordOffset, control, table);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int blocks, int* sums)
        where T : struct, ITileRows
    {
        // Two multiply-adds per block reach each 16-bit lane: at most 2 x 508 per block, and 32 x 1016 = 32512.
        const int blocksPerGroup = 32;
        var firstShifts = Vector256.Create(0UL, 0, 2, 2);
        var secondShifts = Vector256.Create(4UL, 4, 6, 6);
        var mask = Vector256.Create((byte)0b11);
        // vpshufb reads the low 4 bits of each byte (the mask leaves only 2); entry i is q + 1 for code i.
        var table = Vector256.Create(0x0100_0201_0100_0201UL).AsByte();
        var ones = Vector256<short>.One;
        new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
        for (var group = 0; group < blocks; group += blocksPerGroup)
        {
            var groupEnd = Math.Min(blocks, group + blocksPerGroup);
            Vector256<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector256<short> s10 = default, s11 = default, s12 = default, s13 = default;
            for (var b = group; b < groupEnd; b++)
            {
                var wordOffset = (long)b * (BlockWeights / TernaryPacking.WeightsPerWord);
                var offset = (long)b * BlockWeights;
                var (x0, x0High) = (Vector256.Load(x + offset), Vector256.Load(x + offset + 32));
                var (x1, x1High) = T.Count > 1 ? (Vector256.Load(x + stride + offset), Vector256.Load(x + stride + offset + 32)) : (x0, x0High);
                var (d, dHigh) = Avx2Decode(w0 + wordOffset, firstShifts, secondShifts, mask, table);
                s00 += Avx2.MultiplyAddAdjacent(d, x0) + Avx2.MultiplyAddAdjacent(dHigh, x0High);
                s10 = T.Count > 1 ? s10 + Avx2.MultiplyAddAdjacent(d, x1) + Avx2.MultiplyAddAdjacent(dHigh, x1High) : s10;
                (d, dHigh) = Avx2Decode(w1 + wordOffset, firstShifts, secondShifts, mask, table);
                s01 += Avx2.MultiplyAddAdjacent(d, x0) + Avx2.MultiplyAddAdjacent(dHigh, x0High);
                s11 = T.Count > 1 ? s11 + Avx2.MultiplyAddAdjacent(d, x1) + Avx2.MultiplyAddAdjacent(dHigh, x1High) : s11;
                (d, dHigh) = Avx2Decode(w2 + wordOffset, firstShifts, secondShifts, mask, table);
                s02 += Avx2.MultiplyAddAdjacent(d, x0) + Avx2.MultiplyAddAdjacent(dHigh, x0High);
                s12 = T.Count > 1 ? s12 + Avx2.MultiplyAddAdjacent(d, x1) + Avx2.MultiplyAddAdjacent(dHigh, x1High) : s12;
                (d, dHigh) = Avx2Decode(w3 + wordOffset, firstShifts, secondShifts, mask, table);
                s03 += Avx2.MultiplyAddAdjacent(d, x0) + Avx2.MultiplyAddAdjacent(dHigh, x0High);
                s13 = T.Count > 1 ? s13 + Avx2.MultiplyAddAdjacent(d, x1) + Avx2.MultiplyAddAdjacent(dHigh, x1High) : s13;
            }
            sums[0] += Widen(s00, ones); sums[1] += Widen(s01, ones); sums[2] += Widen(s02, ones); sums[3] += Widen(s03, ones);
            sums[4] += Widen(s10, ones); sums[5] += Widen(s11, ones); sums[6] += Widen(s12, ones); sums[7] += Widen(s13, ones);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Avx512Decode(uint* words, Vector512<byte> control, Vector512<byte> table) =>
        Avx512Vbmi.PermuteVar64x8(table, Avx512Vbmi.MultiShift(control, Avx512F.BroadcastVector128ToVector512(words).AsUInt64()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) Avx2Decode(uint* words, Vector256<ulong> firstShifts, Vector256<ulong> secondShifts, Vector256<byte> mask, Vector256<byte> table)
    {
        var packed = Avx2.BroadcastVector128ToVector256((ulong*)words);
        // Shifting whole qwords lets bits of the next byte in at the top of each byte; the mask keeps only the code.
        return (Avx2.Shuffle(table, Avx2.ShiftRightLogicalVariable(packed, firstShifts).AsByte() & mask),
            Avx2.Shuffle(table, Avx2.ShiftRightLogicalVariable(packed, secondShifts).AsByte() & mask));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector512<short> lanes, Vector512<short> ones) => Vector512.Sum(Avx512BW.MultiplyAddAdjacent(lanes, ones));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector256<short> lanes, Vector256<short> ones) => Vector256.Sum(Avx2.MultiplyAddAdjacent(lanes, ones));
}
