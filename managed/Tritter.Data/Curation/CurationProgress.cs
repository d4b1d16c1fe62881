namespace Tritter.Data.Curation;

/// <summary>Where a curation run stands.</summary>
/// <param name="Files">Files processed.</param>
/// <param name="Bytes">Bytes of the processed files.</param>
/// <param name="TotalBytes">Bytes of all files to process, once the size scan finished; otherwise <c>null</c>.</param>
/// <param name="Kept">Files kept so far.</param>
/// <param name="Elapsed">Time since the run started.</param>
public readonly record struct CurationProgress(long Files, long Bytes, long? TotalBytes, long Kept, TimeSpan Elapsed)
{
    /// <summary>Throughput so far in MB/s (10^6 bytes).</summary>
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1e6 / Elapsed.TotalSeconds : 0;

    /// <summary>Estimated time left, once the total is known and the rate is measurable.</summary>
    public TimeSpan? Remaining => TotalBytes is { } total && Bytes > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - Bytes) * Elapsed.TotalSeconds / Bytes)
        : null;
}
