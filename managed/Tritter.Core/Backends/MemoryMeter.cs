namespace Tritter.Core.Backends;

/// <summary>
/// Bytes a backend's tensors hold now and at most since the last <see cref="ResetPeak"/>: what <c>tritter train</c>
/// reports as peak memory and what the memory plan is checked against. Thread-safe.
/// </summary>
public sealed class MemoryMeter
{
    private long _live;
    private long _peak;

    /// <summary>Bytes held by tensors that are not yet disposed.</summary>
    public long LiveBytes => Volatile.Read(ref _live);

    /// <summary>The most <see cref="LiveBytes"/> has been since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakBytes => Volatile.Read(ref _peak);

    /// <summary>Starts a new peak from what is held now.</summary>
    public void ResetPeak() => Volatile.Write(ref _peak, LiveBytes);

    /// <summary>Counts an allocation of <paramref name="bytes"/>.</summary>
    public void Allocated(long bytes)
    {
        var live = Interlocked.Add(ref _live, bytes);
        var peak = Volatile.Read(ref _peak);
        while (live > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peak, live, peak);
            if (seen == peak)
                break;
            peak = seen;
        }
    }

    /// <summary>Counts the release of an allocation of <paramref name="bytes"/>.</summary>
    public void Freed(long bytes) => Interlocked.Add(ref _live, -bytes);
}
