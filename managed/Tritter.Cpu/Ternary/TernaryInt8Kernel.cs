using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Packed ternary weights times int8 activations, accumulated exactly in integers: <c>dots[r, n] = sum_k q[n, k] x[r, k]</c>.
/// The vector paths read a row's packed bytes in chunks of one vector (64 bytes on AVX-512, 32 on AVX2, 16 on the
/// portable path; a row's last bytes in 16-byte chunks). Byte <c>b</c> of a chunk holds weights <c>4b .. 4b + 3</c>, so a
/// few bitwise operations on the whole vector turn every code into <c>c = q + 1</c> in {0, 1, 2} (low bit
/// <c>~(b0 | b1)</c>, high bit <c>b0</c>) and a shift by <c>2s</c> and a mask leave, in byte <c>b</c>, the <c>c</c> of
/// weight <c>4b + s</c>: four vectors of unsigned operands for <c>vpmaddubsw</c> with no table lookup and no lane
/// crossing. <c>sum c x - sum x</c> is the dot product; the caller subtracts <c>sum x</c>. The activations are put once
/// per call into the order the four vectors read them (<see cref="Arrange"/>). Floor at batch 1: 64 bytes of weights per
/// 256 multiply-adds and about 20 simple vector instructions.
/// </summary>
internal static unsafe class TernaryInt8Kernel
{
    /// <summary>Chunks per 16-bit accumulation: a chunk adds at most 4 x 2 x 2 x 127 = 2032 to a lane; 16 x 2032 = 32512.</summary>
    private const int ChunksPerGroup = 16;

    /// <summary>Bytes of the chunks a row's tail is read in, and of the portable path's chunks.</summary>
    private const int TailChunk = 16;

    /// <summary>
    /// Copies int8 activations (rows of <paramref name="paddedColumns"/>, a multiple of 64) into the order the kernel of
    /// <paramref name="path"/> reads them in: on the vector paths a chunk of <c>C</c> packed bytes starting at byte
    /// <c>o</c> of a row covers weights <c>4o .. 4o + 4C - 1</c>, and position <c>4o + C s + b</c> receives weight
    /// <c>4o + 4b + s</c>; the scalar path reads the natural order.
    /// </summary>
    public static void Arrange(ReadOnlySpan<sbyte> natural, Span<sbyte> arranged, int paddedColumns, TernaryKernelPath path)
    {
        if (path == TernaryKernelPath.Portable)
        {
            natural.CopyTo(arranged);
            return;
        }
        var rowBytes = paddedColumns / 4;
        var chunk = ChunkBytes(path);
        var full = rowBytes / chunk * chunk;
        for (var row = 0; row < natural.Length; row += paddedColumns)
        {
            for (var o = 0; o < rowBytes; o += o < full ? chunk : TailChunk)
            {
                var size = o < full ? chunk : TailChunk;
                var source = natural.Slice(row + 4 * o, 4 * size);
                var target = arranged.Slice(row + 4 * o, 4 * size);
                for (var b = 0; b < size; b++)
                {
                    target[b] = source[4 * b];
                    target[size + b] = source[4 * b + 1];
                    target[2 * size + b] = source[4 * b + 2];
                    target[3 * size + b] = source[4 * b + 3];
                }
            }
        }
    }

    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/> as <c>sum (q + 1) x</c> on the vector paths and <c>sum q x</c> on
    /// <see cref="TernaryKernelPath.Portable"/>; <paramref name="x"/> is <c>[m, paddedColumns]</c>, zero-padded, in
    /// <see cref="Arrange"/>'s order.
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
                TileLoop.Portable(xr, count, paddedColumns, words, wordsPerRow, rows, start, end, dr);
            else
                TileLoop.Run(Tile(path, count), count, xr, paddedColumns, words, wordsPerRow, wordsPerRow * sizeof(uint), rows, start, end, dr);
        }
    }

    /// <summary>Whether <paramref name="path"/>'s results include <c>sum x</c> (they hold <c>sum (q + 1) x</c>).</summary>
    public static bool AddsActivationSum(TernaryKernelPath path) => path != TernaryKernelPath.Portable;

    private static int ChunkBytes(TernaryKernelPath path) => path switch
    {
        TernaryKernelPath.Avx512 => 64,
        TernaryKernelPath.Avx2 => 32,
        _ => TailChunk,
    };

    private static delegate*<sbyte*, int, uint*, uint*, uint*, uint*, int, int*, void> Tile(TernaryKernelPath path, int count) => (path, count) switch
    {
        (TernaryKernelPath.Avx2, 1) => &Avx2Tile<OneRow>,
        (TernaryKernelPath.Avx2, _) => &Avx2Tile<TwoRows>,
        (TernaryKernelPath.Vector128, 1) => &Vector128Tile<OneRow>,
        (TernaryKernelPath.Vector128, _) => &Vector128Tile<TwoRows>,
        (_, 1) => &Avx512Tile<OneRow>,
        (_, 2) => &Avx512Tile<TwoRows>,
        (_, 3) => &Avx512Tile<ThreeRows>,
        _ => &Avx512Tile<FourRows>,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int rowBytes, int* sums)
        where T : struct, ITileRows
    {
        byte* p0 = (byte*)w0, p1 = (byte*)w1, p2 = (byte*)w2, p3 = (byte*)w3;
        var full = rowBytes / 64 * 64;
        var ones = Vector512<short>.One;
        new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
        for (var group = 0; group < full; group += 64 * ChunksPerGroup)
        {
            var groupEnd = Math.Min(full, group + 64 * ChunksPerGroup);
            Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector512<short> s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<short> s20 = default, s21 = default, s22 = default, s23 = default;
            Vector512<short> s30 = default, s31 = default, s32 = default, s33 = default;
            for (var o = group; o < groupEnd; o += 64)
            {
                var xo = x + 4L * o;
                var c = Codes(Vector512.Load(p0 + o));
                s00 += Avx512Dot(c, xo);
                s10 = T.Count > 1 ? s10 + Avx512Dot(c, xo + stride) : s10;
                s20 = T.Count > 2 ? s20 + Avx512Dot(c, xo + 2L * stride) : s20;
                s30 = T.Count > 3 ? s30 + Avx512Dot(c, xo + 3L * stride) : s30;
                c = Codes(Vector512.Load(p1 + o));
                s01 += Avx512Dot(c, xo);
                s11 = T.Count > 1 ? s11 + Avx512Dot(c, xo + stride) : s11;
                s21 = T.Count > 2 ? s21 + Avx512Dot(c, xo + 2L * stride) : s21;
                s31 = T.Count > 3 ? s31 + Avx512Dot(c, xo + 3L * stride) : s31;
                c = Codes(Vector512.Load(p2 + o));
                s02 += Avx512Dot(c, xo);
                s12 = T.Count > 1 ? s12 + Avx512Dot(c, xo + stride) : s12;
                s22 = T.Count > 2 ? s22 + Avx512Dot(c, xo + 2L * stride) : s22;
                s32 = T.Count > 3 ? s32 + Avx512Dot(c, xo + 3L * stride) : s32;
                c = Codes(Vector512.Load(p3 + o));
                s03 += Avx512Dot(c, xo);
                s13 = T.Count > 1 ? s13 + Avx512Dot(c, xo + stride) : s13;
                s23 = T.Count > 2 ? s23 + Avx512Dot(c, xo + 2L * stride) : s23;
                s33 = T.Count > 3 ? s33 + Avx512Dot(c, xo + 3L * stride) : s33;
            }
            sums[0] += Widen(s00, ones); sums[1] += Widen(s01, ones); sums[2] += Widen(s02, ones); sums[3] += Widen(s03, ones);
            sums[4] += Widen(s10, ones); sums[5] += Widen(s11, ones); sums[6] += Widen(s12, ones); sums[7] += Widen(s13, ones);
            sums[8] += Widen(s20, ones); sums[9] += Widen(s21, ones); sums[10] += Widen(s22, ones); sums[11] += Widen(s23, ones);
            sums[12] += Widen(s30, ones); sums[13] += Widen(s31, ones); sums[14] += Widen(s32, ones); sums[15] += Widen(s33, ones);
        }
        Tail<T>(x, stride, p0, p1, p2, p3, full, rowBytes, sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int rowBytes, int* sums)
        where T : struct, ITileRows
    {
        byte* p0 = (byte*)w0, p1 = (byte*)w1, p2 = (byte*)w2, p3 = (byte*)w3;
        var full = rowBytes / 32 * 32;
        var ones = Vector256<short>.One;
        new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
        for (var group = 0; group < full; group += 32 * ChunksPerGroup)
        {
            var groupEnd = Math.Min(full, group + 32 * ChunksPerGroup);
            Vector256<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector256<short> s10 = default, s11 = default, s12 = default, s13 = default;
            for (var o = group; o < groupEnd; o += 32)
            {
                var xo = x + 4L * o;
                var c = Codes(Vector256.Load(p0 + o));
                s00 += Avx2Dot(c, xo);
                s10 = T.Count > 1 ? s10 + Avx2Dot(c, xo + stride) : s10;
                c = Codes(Vector256.Load(p1 + o));
                s01 += Avx2Dot(c, xo);
                s11 = T.Count > 1 ? s11 + Avx2Dot(c, xo + stride) : s11;
                c = Codes(Vector256.Load(p2 + o));
                s02 += Avx2Dot(c, xo);
                s12 = T.Count > 1 ? s12 + Avx2Dot(c, xo + stride) : s12;
                c = Codes(Vector256.Load(p3 + o));
                s03 += Avx2Dot(c, xo);
                s13 = T.Count > 1 ? s13 + Avx2Dot(c, xo + stride) : s13;
            }
            sums[0] += Widen(s00, ones); sums[1] += Widen(s01, ones); sums[2] += Widen(s02, ones); sums[3] += Widen(s03, ones);
            sums[4] += Widen(s10, ones); sums[5] += Widen(s11, ones); sums[6] += Widen(s12, ones); sums[7] += Widen(s13, ones);
        }
        Tail<T>(x, stride, p0, p1, p2, p3, full, rowBytes, sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector128Tile<T>(sbyte* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int rowBytes, int* sums)
        where T : struct, ITileRows
    {
        new Span<int>(sums, TileShape.MaxRows * TileShape.WeightRows).Clear();
        Tail<T>(x, stride, (byte*)w0, (byte*)w1, (byte*)w2, (byte*)w3, 0, rowBytes, sums);
    }

    /// <summary>
    /// Adds bytes [<paramref name="from"/>, <paramref name="to"/>) of the four weight rows, in 16-byte chunks with
    /// portable 128-bit operations: the rows' tails on the wide paths, whole rows on the portable vector path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail<T>(sbyte* x, int stride, byte* p0, byte* p1, byte* p2, byte* p3, int from, int to, int* sums)
        where T : struct, ITileRows
    {
        for (var group = from; group < to; group += TailChunk * ChunksPerGroup)
        {
            var groupEnd = Math.Min(to, group + TailChunk * ChunksPerGroup);
            Vector128<short> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector128<short> s10 = default, s11 = default, s12 = default, s13 = default;
            Vector128<short> s20 = default, s21 = default, s22 = default, s23 = default;
            Vector128<short> s30 = default, s31 = default, s32 = default, s33 = default;
            for (var o = group; o < groupEnd; o += TailChunk)
            {
                var xo = x + 4L * o;
                var c = Codes(Vector128.Load(p0 + o));
                s00 += Vector128Dot(c, xo);
                s10 = T.Count > 1 ? s10 + Vector128Dot(c, xo + stride) : s10;
                s20 = T.Count > 2 ? s20 + Vector128Dot(c, xo + 2L * stride) : s20;
                s30 = T.Count > 3 ? s30 + Vector128Dot(c, xo + 3L * stride) : s30;
                c = Codes(Vector128.Load(p1 + o));
                s01 += Vector128Dot(c, xo);
                s11 = T.Count > 1 ? s11 + Vector128Dot(c, xo + stride) : s11;
                s21 = T.Count > 2 ? s21 + Vector128Dot(c, xo + 2L * stride) : s21;
                s31 = T.Count > 3 ? s31 + Vector128Dot(c, xo + 3L * stride) : s31;
                c = Codes(Vector128.Load(p2 + o));
                s02 += Vector128Dot(c, xo);
                s12 = T.Count > 1 ? s12 + Vector128Dot(c, xo + stride) : s12;
                s22 = T.Count > 2 ? s22 + Vector128Dot(c, xo + 2L * stride) : s22;
                s32 = T.Count > 3 ? s32 + Vector128Dot(c, xo + 3L * stride) : s32;
                c = Codes(Vector128.Load(p3 + o));
                s03 += Vector128Dot(c, xo);
                s13 = T.Count > 1 ? s13 + Vector128Dot(c, xo + stride) : s13;
                s23 = T.Count > 2 ? s23 + Vector128Dot(c, xo + 2L * stride) : s23;
                s33 = T.Count > 3 ? s33 + Vector128Dot(c, xo + 3L * stride) : s33;
            }
            sums[0] += Widen(s00); sums[1] += Widen(s01); sums[2] += Widen(s02); sums[3] += Widen(s03);
            sums[4] += Widen(s10); sums[5] += Widen(s11); sums[6] += Widen(s12); sums[7] += Widen(s13);
            sums[8] += Widen(s20); sums[9] += Widen(s21); sums[10] += Widen(s22); sums[11] += Widen(s23);
            sums[12] += Widen(s30); sums[13] += Widen(s31); sums[14] += Widen(s32); sums[15] += Widen(s33);
        }
    }

    /// <summary>
    /// Packed bytes to <c>c = q + 1</c>, two bits per weight in place: code 0b00 (0) becomes 0b01, 0b01 (+1) 0b10 and
    /// 0b10 (-1) 0b00. The shifted copies bring each code's other bit beside it; bits from the neighbouring code are masked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Codes(Vector512<byte> packed)
    {
        var low = ~(packed | (packed.AsUInt16() >> 1).AsByte()) & Vector512.Create((byte)0x55);
        return low | ((packed.AsUInt16() << 1).AsByte() & Vector512.Create((byte)0xAA));
    }

    /// <inheritdoc cref="Codes(Vector512{byte})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Codes(Vector256<byte> packed)
    {
        var low = ~(packed | (packed.AsUInt16() >> 1).AsByte()) & Vector256.Create((byte)0x55);
        return low | ((packed.AsUInt16() << 1).AsByte() & Vector256.Create((byte)0xAA));
    }

    /// <inheritdoc cref="Codes(Vector512{byte})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Codes(Vector128<byte> packed)
    {
        var low = ~(packed | (packed.AsUInt16() >> 1).AsByte()) & Vector128.Create((byte)0x55);
        return low | ((packed.AsUInt16() << 1).AsByte() & Vector128.Create((byte)0xAA));
    }

    /// <summary><c>sum_s c_s x_s</c> over the four 2-bit fields of <paramref name="c"/>, in 16-bit pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Avx512Dot(Vector512<byte> c, sbyte* x)
    {
        var mask = Vector512.Create((byte)3);
        return Avx512BW.MultiplyAddAdjacent(c & mask, Vector512.Load(x))
            + Avx512BW.MultiplyAddAdjacent((c.AsUInt16() >> 2).AsByte() & mask, Vector512.Load(x + 64))
            + Avx512BW.MultiplyAddAdjacent((c.AsUInt16() >> 4).AsByte() & mask, Vector512.Load(x + 128))
            + Avx512BW.MultiplyAddAdjacent((c.AsUInt16() >> 6).AsByte() & mask, Vector512.Load(x + 192));
    }

    /// <inheritdoc cref="Avx512Dot"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Avx2Dot(Vector256<byte> c, sbyte* x)
    {
        var mask = Vector256.Create((byte)3);
        return Avx2.MultiplyAddAdjacent(c & mask, Vector256.Load(x))
            + Avx2.MultiplyAddAdjacent((c.AsUInt16() >> 2).AsByte() & mask, Vector256.Load(x + 32))
            + Avx2.MultiplyAddAdjacent((c.AsUInt16() >> 4).AsByte() & mask, Vector256.Load(x + 64))
            + Avx2.MultiplyAddAdjacent((c.AsUInt16() >> 6).AsByte() & mask, Vector256.Load(x + 96));
    }

    /// <summary>As <see cref="Avx512Dot"/> with portable operations: 16-bit products of the widened halves, summed per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Vector128Dot(Vector128<byte> c, sbyte* x)
    {
        var mask = Vector128.Create((byte)3);
        return Products(c & mask, Vector128.Load(x))
            + Products((c.AsUInt16() >> 2).AsByte() & mask, Vector128.Load(x + 16))
            + Products((c.AsUInt16() >> 4).AsByte() & mask, Vector128.Load(x + 32))
            + Products((c.AsUInt16() >> 6).AsByte() & mask, Vector128.Load(x + 48));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Products(Vector128<byte> c, Vector128<sbyte> x)
    {
        var (cLow, cHigh) = Vector128.Widen(c.AsSByte());
        var (xLow, xHigh) = Vector128.Widen(x);
        return cLow * xLow + cHigh * xHigh;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector512<short> lanes, Vector512<short> ones) => Vector512.Sum(Avx512BW.MultiplyAddAdjacent(lanes, ones));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector256<short> lanes, Vector256<short> ones) => Vector256.Sum(Avx2.MultiplyAddAdjacent(lanes, ones));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Widen(Vector128<short> lanes)
    {
        var (low, high) = Vector128.Widen(lanes);
        return Vector128.Sum(low + high);
    }
}
