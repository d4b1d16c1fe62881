using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Packed ternary weights times float32 activations: <c>dots[r, n] = sum_k q[n, k] x[r, k]</c>, unscaled. The vector
/// paths decode one 32-bit word (16 weights) per step: a variable shift moves each 2-bit code to the bottom of its lane
/// and an in-lane table lookup (<c>vpermilps</c>, which reads only the low two bits of each index) maps it to 0, +1 or
/// -1, which multiplies the activations. Floor at batch 1: 4 bytes of weights per 16 multiply-adds, so the kernel is
/// bound by decoding (3 instructions per 16 weights) rather than by memory. On AVX-512,
/// <see cref="TernaryFloatLutKernel"/> runs instead.
/// </summary>
internal static unsafe class TernaryFloatKernel
{
    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/>; <paramref name="x"/> is <c>[m, paddedColumns]</c> with zeros in the padding.
    /// <paramref name="interleaved"/>: the words are in <see cref="TernaryFloatLutKernel.Interleave"/>'s layout, which
    /// only the AVX-512 path reads (<see cref="Interleaves"/>).
    /// </summary>
    public static void Rows(float* x, int m, int paddedColumns, uint* words, int rows, int start, int end, float* dots, TernaryKernelPath path, bool interleaved)
    {
        var wordsPerRow = paddedColumns / TernaryPacking.WeightsPerWord;
        if (path == TernaryKernelPath.Avx512)
        {
            TernaryFloatLutKernel.Rows(x, m, paddedColumns, words, rows, start, end, dots, interleaved);
            return;
        }
        if (interleaved)
            throw new ArgumentException($"the {path} path reads the canonical layout, not interleaved words", nameof(interleaved));
        var tileRows = TileShape.Rows(path);
        for (var r0 = 0; r0 < m; r0 += tileRows)
        {
            var xr = x + (long)r0 * paddedColumns;
            var dr = dots + (long)r0 * rows;
            var count = Math.Min(tileRows, m - r0);
            if (path == TernaryKernelPath.Portable)
                TileLoop.Portable(xr, count, paddedColumns, words, wordsPerRow, rows, start, end, dr);
            else
                TileLoop.Run(Tile(path, count), count, xr, paddedColumns, words, wordsPerRow, wordsPerRow, rows, start, end, dr);
        }
    }

    /// <summary>Whether <paramref name="path"/> reads fixed weights faster interleaved; its row ranges then start at multiples of 16.</summary>
    public static bool Interleaves(TernaryKernelPath path) => path == TernaryKernelPath.Avx512;

    private static delegate*<float*, int, uint*, uint*, uint*, uint*, int, float*, void> Tile(TernaryKernelPath path, int count) => (path, count) switch
    {
        (TernaryKernelPath.Avx2, 1) => &Avx2Tile<OneRow>,
        (TernaryKernelPath.Avx2, _) => &Avx2Tile<TwoRows>,
        (_, 1) => &Vector128Tile<OneRow>,
        _ => &Vector128Tile<TwoRows>,
    };


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile<T>(float* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int wordsPerRow, float* sums)
        where T : struct, ITileRows
    {
        // Each word's 16 codes split over two 8-lane halves of the table {0, +1, -1, invalid as 0}; vpermilps ignores the index bits of the next codes.
        var table = Vector256.Create(0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f);
        var low = Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14);
        var high = Vector256.Create(16u, 18, 20, 22, 24, 26, 28, 30);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        for (var j = 0; j < wordsPerRow; j++)
        {
            var offset = (long)j * TernaryPacking.WeightsPerWord;
            var (x0, x0High) = (Vector256.Load(x + offset), Vector256.Load(x + offset + 8));
            var (x1, x1High) = T.Count > 1 ? (Vector256.Load(x + stride + offset), Vector256.Load(x + stride + offset + 8)) : (x0, x0High);
            var (q, qHigh) = Decode(w0[j], table, low, high);
            a00 = Fma.MultiplyAdd(q, x0, Fma.MultiplyAdd(qHigh, x0High, a00));
            a10 = T.Count > 1 ? Fma.MultiplyAdd(q, x1, Fma.MultiplyAdd(qHigh, x1High, a10)) : a10;
            (q, qHigh) = Decode(w1[j], table, low, high);
            a01 = Fma.MultiplyAdd(q, x0, Fma.MultiplyAdd(qHigh, x0High, a01));
            a11 = T.Count > 1 ? Fma.MultiplyAdd(q, x1, Fma.MultiplyAdd(qHigh, x1High, a11)) : a11;
            (q, qHigh) = Decode(w2[j], table, low, high);
            a02 = Fma.MultiplyAdd(q, x0, Fma.MultiplyAdd(qHigh, x0High, a02));
            a12 = T.Count > 1 ? Fma.MultiplyAdd(q, x1, Fma.MultiplyAdd(qHigh, x1High, a12)) : a12;
            (q, qHigh) = Decode(w3[j], table, low, high);
            a03 = Fma.MultiplyAdd(q, x0, Fma.MultiplyAdd(qHigh, x0High, a03));
            a13 = T.Count > 1 ? Fma.MultiplyAdd(q, x1, Fma.MultiplyAdd(qHigh, x1High, a13)) : a13;
        }
        (sums[0], sums[1], sums[2], sums[3]) = (Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a02), Vector256.Sum(a03));
        (sums[4], sums[5], sums[6], sums[7]) = (Vector256.Sum(a10), Vector256.Sum(a11), Vector256.Sum(a12), Vector256.Sum(a13));
    }

    /// <summary>Four decoded weights per byte value: entry <c>4v + i</c> is the weight of code <c>(v >> 2i) &amp; 3</c>.</summary>
    private static readonly float[] ByteWeights = BuildByteWeights();

    /// <summary>
    /// The portable path: each byte of a word indexes <see cref="ByteWeights"/> for its four weights, which multiply four
    /// activations; as the AVX2 tile otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector128Tile<T>(float* x, int stride, uint* w0, uint* w1, uint* w2, uint* w3, int wordsPerRow, float* sums)
        where T : struct, ITileRows
    {
        Vector128<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector128<float> a10 = default, a11 = default, a12 = default, a13 = default;
        fixed (float* table = ByteWeights)
        {
            byte* p0 = (byte*)w0, p1 = (byte*)w1, p2 = (byte*)w2, p3 = (byte*)w3;
            var bytes = wordsPerRow * sizeof(uint);
            for (var b = 0; b < bytes; b++)
            {
                var x0 = Vector128.Load(x + 4L * b);
                var x1 = T.Count > 1 ? Vector128.Load(x + stride + 4L * b) : x0;
                var q = Vector128.Load(table + 4 * p0[b]);
                a00 = Vector128.MultiplyAddEstimate(q, x0, a00);
                a10 = T.Count > 1 ? Vector128.MultiplyAddEstimate(q, x1, a10) : a10;
                q = Vector128.Load(table + 4 * p1[b]);
                a01 = Vector128.MultiplyAddEstimate(q, x0, a01);
                a11 = T.Count > 1 ? Vector128.MultiplyAddEstimate(q, x1, a11) : a11;
                q = Vector128.Load(table + 4 * p2[b]);
                a02 = Vector128.MultiplyAddEstimate(q, x0, a02);
                a12 = T.Count > 1 ? Vector128.MultiplyAddEstimate(q, x1, a12) : a12;
                q = Vector128.Load(table + 4 * p3[b]);
                a03 = Vector128.MultiplyAddEstimate(q, x0, a03);
                a13 = T.Count > 1 ? Vector128.MultiplyAddEstimate(q, x1, a13) : a13;
            }
        }
        (sums[0], sums[1], sums[2], sums[3]) = (Vector128.Sum(a00), Vector128.Sum(a01), Vector128.Sum(a02), Vector128.Sum(a03));
        (sums[4], sums[5], sums[6], sums[7]) = (Vector128.Sum(a10), Vector128.Sum(a11), Vector128.Sum(a12), Vector128.Sum(a13));
    }

    private static float[] BuildByteWeights()
    {
        ReadOnlySpan<float> values = [0f, 1f, -1f, 0f];
        var table = new float[256 * 4];
        for (var v = 0; v < 256; v++)
        {
            for (var i = 0; i < 4; i++)
                table[4 * v + i] = values[(v >> (2 * i)) & 3];
        }
        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Low, Vector256<float> High) Decode(uint word, Vector256<float> table, Vector256<uint> low, Vector256<uint> high)
    {
        var codes = Vector256.Create(word);
        return (Avx.PermuteVar(table, Avx2.ShiftRightLogicalVariable(codes, low).AsInt32()),
            Avx.PermuteVar(table, Avx2.ShiftRightLogicalVariable(codes, high).AsInt32()));
    }
}
