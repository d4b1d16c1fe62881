namespace Tritter.Cpu;

/// <summary>Splits work across cores in contiguous pieces; small work stays on the calling thread.</summary>
internal static class CpuParallel
{
    /// <summary>Below this many elements (or multiply-adds) a thread hand-off costs more than it saves.</summary>
    private const int MinChunk = 1 << 16;

    /// <summary>Runs <paramref name="body"/>(start, length) over [0, count) in chunks whose starts are multiples of 64.</summary>
    public static void ForChunks(long count, Action<int, int> body)
    {
        var chunks = (int)Math.Min(Environment.ProcessorCount, Math.Max(1, count / MinChunk));
        if (chunks <= 1)
        {
            body(0, checked((int)count));
            return;
        }
        var chunk = (count + chunks - 1) / chunks;
        chunk = (chunk + 63) & ~63L;
        Parallel.For(0, chunks, c =>
        {
            var start = c * chunk;
            var length = Math.Min(chunk, count - start);
            if (length > 0)
                body((int)start, (int)length);
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/>(firstRow, rowCount) over [0, rows) in one contiguous block per core, each row costing
    /// about <paramref name="workPerRow"/> operations. Every row is handled by exactly one call, so results do not depend
    /// on the number of threads.
    /// </summary>
    public static void ForRows(int rows, long workPerRow, Action<int, int> body)
    {
        var blocks = (int)Math.Min(Math.Min(Environment.ProcessorCount * 4L, rows), Math.Max(1, rows * workPerRow / MinChunk));
        if (blocks <= 1)
        {
            body(0, rows);
            return;
        }
        Parallel.For(0, blocks, b =>
        {
            var start = (int)((long)rows * b / blocks);
            var end = (int)((long)rows * (b + 1) / blocks);
            if (end > start)
                body(start, end - start);
        });
    }
}
