namespace Tritter.Bench;

/// <summary>
/// The CPU suites' copy roofline: a copy split across the cores as the ops split their work, so the copy and the op
/// draw on the same memory bandwidth.
/// </summary>
public static class HostCopy
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> (at least as long), one piece per core.</summary>
    public static void Copy(byte[] source, byte[] destination) =>
        Split(source.Length, (start, end) => source.AsSpan(start, end - start).CopyTo(destination.AsSpan(start, end - start)));

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in one contiguous piece per core.</summary>
    public static void Split(int count, Action<int, int> body)
    {
        var chunks = Environment.ProcessorCount;
        var chunk = (count + chunks - 1) / chunks;
        Parallel.For(0, chunks, c => body(c * chunk, Math.Min(count, (c + 1) * chunk)));
    }
}
