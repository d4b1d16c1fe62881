namespace Tritter.Cpu;

/// <summary>Splits element-wise work into contiguous chunks across cores; small work stays on the calling thread.</summary>
internal static class CpuParallel
{
    /// <summary>Below this many elements a thread hand-off costs more than it saves.</summary>
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
}
