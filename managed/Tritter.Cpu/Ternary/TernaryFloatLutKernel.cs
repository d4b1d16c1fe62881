using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// The AVX-512 float32 kernel, by table lookup: for every pair of activations <c>(x_a, x_b)</c> a 16-entry table holds
/// <c>q_a x_a + q_b x_b</c> for each 4-bit pair of codes, and a <c>vpermps</c> looks up 16 weight rows at once, one per
/// lane. The lanes need the same word of 16 rows, so each group of 16 rows is transposed 16 words at a time. Per 32
/// weights of 16 rows: a shift, a lookup and an add per activation row, against a shift, a lookup and an FMA per 16
/// weights of one row in <see cref="TernaryFloatKernel"/>'s AVX2 tiles. The tables are built per block of
/// <see cref="BlockWords"/> words along K so that they stay in L1 while every row group reads them. Weights that stay
/// fixed (generation) are interleaved once (<see cref="Interleave"/>): each full group of 16 rows is stored transposed,
/// word by word, so the kernel reads its columns straight from memory, one contiguous stream per group.
/// </summary>
internal static unsafe class TernaryFloatLutKernel
{
    /// <summary>Weight rows per group, one per lane; a short last group repeats its last row in the spare lanes.</summary>
    public const int GroupRows = 16;

    /// <summary>Activation rows per pass over the weights.</summary>
    private const int MaxRows = TileShape.MaxRows;

    /// <summary>
    /// Words along K per block: 32 words make 256 tables of 64 bytes, 16 KB per activation row. Fixed, so that a row's
    /// sums are added in the same order whatever the batch size.
    /// </summary>
    private const int BlockWords = 32;

    private const int PairsPerWord = TernaryPacking.WeightsPerWord / 2;

    private const int TableFloats = 16;

    private const int BlockTableFloats = BlockWords * PairsPerWord * TableFloats;

    /// <summary>
    /// Rewrites <paramref name="rows"/> canonical rows of <paramref name="wordsPerRow"/> words in place into the layout
    /// <see cref="Rows"/> reads with <c>interleaved</c> set, in the order it reads them: the rows of the full groups of
    /// <see cref="GroupRows"/> come block by block along K (<see cref="BlockWords"/> words), within a block group by group,
    /// within a group word by word, and a word's 16 rows side by side (<see cref="InterleavedBlock"/>), so that a pass
    /// over one block streams one contiguous stretch; the rows past the last full group stay as they are.
    /// </summary>
    public static void Interleave(Span<uint> words, int rows, int wordsPerRow)
    {
        var groups = rows / GroupRows;
        var canonical = words[..(groups * GroupRows * wordsPerRow)].ToArray();
        for (var j0 = 0; j0 < wordsPerRow; j0 += BlockWords)
        {
            var blockWords = Math.Min(BlockWords, wordsPerRow - j0);
            for (var g = 0; g < groups; g++)
            {
                var block = words.Slice(InterleavedBlock(j0, g * GroupRows, rows, blockWords), GroupRows * blockWords);
                for (var l = 0; l < GroupRows; l++)
                {
                    for (var w = 0; w < blockWords; w++)
                        block[w * GroupRows + l] = canonical[(g * GroupRows + l) * wordsPerRow + j0 + w];
                }
            }
        }
    }

    /// <summary>
    /// Where, in the interleaved layout, the block of <paramref name="blockWords"/> words from word <paramref name="j0"/>
    /// of the group at row <paramref name="n"/> starts: after every full group's earlier blocks (each
    /// <see cref="BlockWords"/> wide) and this block of the groups before it.
    /// </summary>
    private static int InterleavedBlock(int j0, int n, int rows, int blockWords) =>
        GroupRows * (j0 * (rows / GroupRows) + n / GroupRows * blockWords);

    /// <summary>
    /// Computes rows [<paramref name="start"/>, <paramref name="end"/>) of the <c>[m, rows]</c> result
    /// <paramref name="dots"/> for the <paramref name="m"/> activation rows of <paramref name="x"/>, each
    /// <paramref name="paddedColumns"/> long, up to four per pass over the weights. Each activation row's sums are added in
    /// one order whatever the batch, so a row gives the same bits alone or batched, and the same from either layout.
    /// <paramref name="interleaved"/> says the words were rewritten by <see cref="Interleave"/>; then
    /// <paramref name="start"/> is a multiple of <see cref="GroupRows"/>.
    /// </summary>
    public static void Rows(float* x, int m, int paddedColumns, uint* words, int rows, int start, int end, float* dots, bool interleaved)
    {
        if (interleaved && start % GroupRows != 0)
            throw new ArgumentException($"interleaved rows start at a multiple of {GroupRows}, not {start}", nameof(start));
        for (var r0 = 0; r0 < m; r0 += MaxRows)
        {
            var xr = x + (long)r0 * paddedColumns;
            var dr = dots + (long)r0 * rows;
            switch (Math.Min(MaxRows, m - r0))
            {
                case 1: Rows<OneRow>(xr, paddedColumns, words, rows, start, end, dr, interleaved); break;
                case 2: Rows<TwoRows>(xr, paddedColumns, words, rows, start, end, dr, interleaved); break;
                case 3: Rows<ThreeRows>(xr, paddedColumns, words, rows, start, end, dr, interleaved); break;
                default: Rows<FourRows>(xr, paddedColumns, words, rows, start, end, dr, interleaved); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<T>(float* x, int stride, uint* words, int rows, int start, int end, float* dots, bool interleaved)
        where T : struct, ITileRows
    {
        var wordsPerRow = stride / TernaryPacking.WeightsPerWord;
        var rawTables = stackalloc float[T.Count * BlockTableFloats + TableFloats];
        var tables = (float*)(((nint)rawTables + 63) & ~(nint)63);
        var rawColumns = stackalloc Vector512<uint>[BlockWords + 1];
        var transposed = (Vector512<uint>*)(((nint)rawColumns + 63) & ~(nint)63);
        var partial = stackalloc uint[GroupRows * GroupRows];
        for (var j0 = 0; j0 < wordsPerRow; j0 += BlockWords)
        {
            var blockWords = Math.Min(BlockWords, wordsPerRow - j0);
            for (var r = 0; r < T.Count; r++)
                BuildTables(x + (long)r * stride + (long)j0 * TernaryPacking.WeightsPerWord, blockWords, tables + r * BlockTableFloats);
            for (var n = start; n < end; n += GroupRows)
            {
                var valid = Math.Min(GroupRows, end - n);
                var w = words + (long)n * wordsPerRow;
                Vector512<uint>* columns;
                if (interleaved && n + GroupRows <= rows)
                {
                    columns = (Vector512<uint>*)(words + InterleavedBlock(j0, n, rows, blockWords));
                }
                else
                {
                    for (var j = 0; j < blockWords; j += GroupRows)
                        Transpose(w + j0 + j, wordsPerRow, Math.Min(GroupRows, blockWords - j), valid, transposed + j, partial);
                    columns = transposed;
                }
                Group<T>(tables, columns, blockWords, valid, partial, dots + n, rows, j0 == 0);
            }
        }
    }

    /// <summary>
    /// Adds the block's products of the <paramref name="valid"/> rows whose words, word by word across the 16 lanes, are
    /// <paramref name="columns"/> into <paramref name="dots"/> (stores them on the first block).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Group<T>(float* tables, Vector512<uint>* columns, int blockWords, int valid, uint* partial, float* dots, int rows, bool first)
        where T : struct, ITileRows
    {
        // Four chains per activation row: the adds of one word's eight pairs would otherwise wait on each other.
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        for (var word = 0; word < blockWords; word++)
        {
            var codes = Vector512.Load((uint*)(columns + word));
            var t = tables + word * PairsPerWord * TableFloats;
            var i00 = codes.AsInt32();
            var i10 = (codes >> 4).AsInt32();
            var i20 = (codes >> 8).AsInt32();
            var i30 = (codes >> 12).AsInt32();
            a0 += Avx512F.PermuteVar16x32(Vector512.Load(t), i00);
            a1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 16), i10);
            a2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 32), i20);
            a3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 48), i30);
            if (T.Count > 1)
            {
                b0 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats), i00);
                b1 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 16), i10);
                b2 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 32), i20);
                b3 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 48), i30);
            }
            if (T.Count > 2)
            {
                c0 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats), i00);
                c1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 16), i10);
                c2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 32), i20);
                c3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 48), i30);
            }
            if (T.Count > 3)
            {
                d0 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats), i00);
                d1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 16), i10);
                d2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 32), i20);
                d3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 48), i30);
            }
            var i01 = (codes >> 16).AsInt32();
            var i11 = (codes >> 20).AsInt32();
            var i21 = (codes >> 24).AsInt32();
            var i31 = (codes >> 28).AsInt32();
            a0 += Avx512F.PermuteVar16x32(Vector512.Load(t + 64), i01);
            a1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 80), i11);
            a2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 96), i21);
            a3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 112), i31);
            if (T.Count > 1)
            {
                b0 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 64), i01);
                b1 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 80), i11);
                b2 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 96), i21);
                b3 += Avx512F.PermuteVar16x32(Vector512.Load(t + BlockTableFloats + 112), i31);
            }
            if (T.Count > 2)
            {
                c0 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 64), i01);
                c1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 80), i11);
                c2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 96), i21);
                c3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 2 * BlockTableFloats + 112), i31);
            }
            if (T.Count > 3)
            {
                d0 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 64), i01);
                d1 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 80), i11);
                d2 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 96), i21);
                d3 += Avx512F.PermuteVar16x32(Vector512.Load(t + 3 * BlockTableFloats + 112), i31);
            }
        }
        Finish((a0 + a1) + (a2 + a3), dots, valid, first, (float*)partial);
        if (T.Count > 1)
            Finish((b0 + b1) + (b2 + b3), dots + rows, valid, first, (float*)partial);
        if (T.Count > 2)
            Finish((c0 + c1) + (c2 + c3), dots + 2L * rows, valid, first, (float*)partial);
        if (T.Count > 3)
            Finish((d0 + d1) + (d2 + d3), dots + 3L * rows, valid, first, (float*)partial);
    }

    /// <summary>Stores or adds the first <paramref name="valid"/> lanes of <paramref name="sum"/> into <paramref name="dots"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector512<float> sum, float* dots, int valid, bool first, float* scratch)
    {
        if (valid == GroupRows)
        {
            Vector512.Store(first ? sum : sum + Vector512.Load(dots), dots);
            return;
        }
        sum.Store(scratch);
        for (var l = 0; l < valid; l++)
            dots[l] = first ? scratch[l] : dots[l] + scratch[l];
    }

    /// <summary>
    /// Tables for <paramref name="words"/> words of activations: entry <c>c</c> of pair <c>p</c> is
    /// <c>q(c &amp; 3) x[2p] + q(c &gt;&gt; 2) x[2p + 1]</c>, the weights' low code belonging to the first activation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BuildTables(float* x, int words, float* tables)
    {
        var low = Vector512.Create(0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f, 0f, 1f, -1f, 0f);
        var high = Vector512.Create(0f, 0f, 0f, 0f, 1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f, 0f, 0f, 0f, 0f);
        for (var p = 0; p < words * PairsPerWord; p++)
            Vector512.Store(Avx512F.FusedMultiplyAdd(high, Vector512.Create(x[2 * p + 1]), low * Vector512.Create(x[2 * p])), tables + p * TableFloats);
    }

    /// <summary>
    /// <paramref name="columns"/>[c] = word c of each of the 16 rows at <paramref name="w"/> (lane = row), for the
    /// first <paramref name="count"/> words; a short block, or a group of <paramref name="valid"/> &lt; 16 rows, is read
    /// through <paramref name="partial"/>, zero-filled, the last valid row repeated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(uint* w, int wordsPerRow, int count, int valid, Vector512<uint>* columns, uint* partial)
    {
        var source = w;
        var stride = wordsPerRow;
        if (count < GroupRows || valid < GroupRows)
        {
            new Span<uint>(partial, GroupRows * GroupRows).Clear();
            for (var l = 0; l < GroupRows; l++)
                new ReadOnlySpan<uint>(w + (long)Math.Min(l, valid - 1) * wordsPerRow, count).CopyTo(new Span<uint>(partial + l * GroupRows, count));
            source = partial;
            stride = GroupRows;
        }
        var step = (long)stride;
        Vector512<uint> r0 = Vector512.Load(source), r1 = Vector512.Load(source + step);
        Vector512<uint> r2 = Vector512.Load(source + 2 * step), r3 = Vector512.Load(source + 3 * step);
        Vector512<uint> r4 = Vector512.Load(source + 4 * step), r5 = Vector512.Load(source + 5 * step);
        Vector512<uint> r6 = Vector512.Load(source + 6 * step), r7 = Vector512.Load(source + 7 * step);
        Vector512<uint> r8 = Vector512.Load(source + 8 * step), r9 = Vector512.Load(source + 9 * step);
        Vector512<uint> r10 = Vector512.Load(source + 10 * step), r11 = Vector512.Load(source + 11 * step);
        Vector512<uint> r12 = Vector512.Load(source + 12 * step), r13 = Vector512.Load(source + 13 * step);
        Vector512<uint> r14 = Vector512.Load(source + 14 * step), r15 = Vector512.Load(source + 15 * step);
        var (t0, t1) = Words(r0, r1);
        var (t2, t3) = Words(r2, r3);
        var (t4, t5) = Words(r4, r5);
        var (t6, t7) = Words(r6, r7);
        var (t8, t9) = Words(r8, r9);
        var (t10, t11) = Words(r10, r11);
        var (t12, t13) = Words(r12, r13);
        var (t14, t15) = Words(r14, r15);
        (r0, r1) = Pairs(t0, t2);
        (r2, r3) = Pairs(t1, t3);
        (r4, r5) = Pairs(t4, t6);
        (r6, r7) = Pairs(t5, t7);
        (r8, r9) = Pairs(t8, t10);
        (r10, r11) = Pairs(t9, t11);
        (r12, r13) = Pairs(t12, t14);
        (r14, r15) = Pairs(t13, t15);
        // r[4i + c] holds, in 128-bit lane L, word 4L + c of rows 4i .. 4i + 3.
        (t0, t4) = Lanes(r0, r4);
        (t8, t12) = Lanes(r8, r12);
        (t1, t5) = Lanes(r1, r5);
        (t9, t13) = Lanes(r9, r13);
        (t2, t6) = Lanes(r2, r6);
        (t10, t14) = Lanes(r10, r14);
        (t3, t7) = Lanes(r3, r7);
        (t11, t15) = Lanes(r11, r15);
        // t[c], t[4 + c]: words c, 8 + c and 4 + c, 12 + c of rows 0-7; t[8 + c], t[12 + c] the same of rows 8-15.
        (columns[0], columns[8]) = Lanes(t0, t8);
        (columns[4], columns[12]) = Lanes(t4, t12);
        (columns[1], columns[9]) = Lanes(t1, t9);
        (columns[5], columns[13]) = Lanes(t5, t13);
        (columns[2], columns[10]) = Lanes(t2, t10);
        (columns[6], columns[14]) = Lanes(t6, t14);
        (columns[3], columns[11]) = Lanes(t3, t11);
        (columns[7], columns[15]) = Lanes(t7, t15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<uint>, Vector512<uint>) Words(Vector512<uint> a, Vector512<uint> b) => (Avx512F.UnpackLow(a, b), Avx512F.UnpackHigh(a, b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<uint>, Vector512<uint>) Pairs(Vector512<uint> a, Vector512<uint> b) =>
        (Avx512F.UnpackLow(a.AsUInt64(), b.AsUInt64()).AsUInt32(), Avx512F.UnpackHigh(a.AsUInt64(), b.AsUInt64()).AsUInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<uint>, Vector512<uint>) Lanes(Vector512<uint> a, Vector512<uint> b) => (Avx512F.Shuffle4x128(a, b, 0x88), Avx512F.Shuffle4x128(a, b, 0xDD));
}
