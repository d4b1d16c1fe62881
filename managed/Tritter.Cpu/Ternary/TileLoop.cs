using System.Numerics;
using Tritter.Core.Ternary;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Walks output rows in tiles of <see cref="TileShape.WeightRows"/> weight rows and hands each tile to an ISA-specific
/// tile function, which fills <c>sums[activationRow * WeightRows + weightRow]</c>. A partial tile at the end repeats its
/// last row, and the repeats' sums are discarded, so tile functions never see a short tile.
/// </summary>
internal static unsafe class TileLoop
{
    /// <summary>
    /// Runs <paramref name="tile"/> (x, x row stride, four weight-row pointers, steps along K, sums) over rows
    /// [<paramref name="start"/>, <paramref name="end"/>), storing <paramref name="count"/> activation rows of results
    /// into the <c>[count, rows]</c> block <paramref name="dots"/>.
    /// </summary>
    public static void Run<TX, TSum>(
        delegate*<TX*, int, uint*, uint*, uint*, uint*, int, TSum*, void> tile, int count,
        TX* x, int stride, uint* words, int wordsPerRow, int steps, int rows, int start, int end, TSum* dots)
        where TX : unmanaged
        where TSum : unmanaged
    {
        var sums = stackalloc TSum[TileShape.MaxRows * TileShape.WeightRows];
        for (var n = start; n < end; n += TileShape.WeightRows)
        {
            var w0 = words + (long)n * wordsPerRow;
            var w1 = words + (long)Math.Min(n + 1, end - 1) * wordsPerRow;
            var w2 = words + (long)Math.Min(n + 2, end - 1) * wordsPerRow;
            var w3 = words + (long)Math.Min(n + 3, end - 1) * wordsPerRow;
            tile(x, stride, w0, w1, w2, w3, steps, sums);
            for (var r = 0; r < count; r++)
            {
                for (var c = 0; c < TileShape.WeightRows && n + c < end; c++)
                    dots[(long)r * rows + n + c] = sums[r * TileShape.WeightRows + c];
            }
        }
    }

    /// <summary>
    /// The scalar path of both kernels, in the natural order: rows [<paramref name="start"/>, <paramref name="end"/>)
    /// of the <c>[count, rows]</c> block <paramref name="dots"/>, each a sum of decoded weights times activations.
    /// </summary>
    public static void Portable<TX, TSum>(TX* x, int count, int paddedColumns, uint* words, int wordsPerRow, int rows, int start, int end, TSum* dots)
        where TX : unmanaged, INumber<TX>
        where TSum : unmanaged, INumber<TSum>
    {
        ReadOnlySpan<int> values = [0, 1, -1, 0];
        for (var n = start; n < end; n++)
        {
            var row = words + (long)n * wordsPerRow;
            for (var r = 0; r < count; r++)
            {
                var xr = x + (long)r * paddedColumns;
                var sum = TSum.Zero;
                for (var k = 0; k < paddedColumns; k++)
                {
                    var q = values[(int)(row[k / TernaryPacking.WeightsPerWord] >> (2 * (k % TernaryPacking.WeightsPerWord))) & 3];
                    sum += TSum.CreateTruncating(q) * TSum.CreateTruncating(xr[k]);
                }
                dots[(long)r * rows + n] = sum;
            }
        }
    }
}
