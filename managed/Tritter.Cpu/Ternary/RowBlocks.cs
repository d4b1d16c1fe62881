namespace Tritter.Cpu.Ternary;

/// <summary>
/// Splits the output rows of a matmul across cores in multiples of a kernel's rows per unit
/// (<see cref="TileShape.WeightRows"/> unless told). Unlike
/// <see cref="CpuParallel"/>, which sizes chunks by element count, this sizes them by the work behind each row.
/// </summary>
internal static class RowBlocks
{
    /// <summary>Below this many multiply-adds per chunk a thread hand-off costs more than it saves.</summary>
    private const long MinWork = 1 << 20;

    /// <summary>
    /// Runs <paramref name="body"/>(firstRow, endRow) over [0, rows), each row costing <paramref name="workPerRow"/>,
    /// every range but the last starting and ending at multiples of <paramref name="unit"/>.
    /// </summary>
    public static void For(int rows, long workPerRow, Action<int, int> body, int unit = TileShape.WeightRows)
    {
        var blocks = (rows + unit - 1) / unit;
        var chunks = (int)Math.Min(Math.Min(Environment.ProcessorCount, blocks), Math.Max(1, rows * workPerRow / MinWork));
        if (chunks <= 1)
        {
            body(0, rows);
            return;
        }
        var blocksPerChunk = (blocks + chunks - 1) / chunks;
        Parallel.For(0, chunks, c =>
        {
            var start = c * blocksPerChunk * unit;
            var end = Math.Min(rows, start + blocksPerChunk * unit);
            if (start < end)
                body(start, end);
        });
    }
}
