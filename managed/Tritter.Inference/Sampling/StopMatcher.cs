namespace Tritter.Inference.Sampling;

/// <summary>
/// Stop sequences over a stream of items (token ids, or characters of decoded text): items are released as soon as
/// they can no longer be the start of a stop sequence; when the stream ends with one, the stream stops and the stop
/// sequence itself is never released. Where several stop sequences end at the same item, the longest wins.
/// </summary>
public sealed class StopMatcher<T> where T : IEquatable<T>
{
    private readonly T[][] _stops;
    private readonly List<T> _pending = [];

    /// <summary>Matches <paramref name="stops"/>, each at least one item long.</summary>
    public StopMatcher(IEnumerable<IReadOnlyList<T>> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = [.. stops.Select(s => s.ToArray()).OrderByDescending(s => s.Length)];
        if (_stops.Any(s => s.Length == 0))
            throw new ArgumentException("a stop sequence needs at least one item", nameof(stops));
    }

    /// <summary>Whether the stream has ended with a stop sequence.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds <paramref name="item"/>; returns the items (in order) that are now certain not to belong to a stop sequence.</summary>
    public IReadOnlyList<T> Push(T item)
    {
        if (Stopped)
            throw new InvalidOperationException("the stream has already stopped");
        _pending.Add(item);
        foreach (var stop in _stops)
        {
            if (EndsWith(stop, stop.Length))
            {
                Stopped = true;
                return Release(_pending.Count - stop.Length);
            }
        }
        // A stop can only end here if its start is pending: keep the longest pending tail that begins some stop.
        var hold = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, _pending.Count); length > hold; length--)
            {
                if (EndsWith(stop, length))
                {
                    hold = length;
                    break;
                }
            }
        }
        return Release(_pending.Count - hold);
    }

    /// <summary>Releases what is held back, at the end of a stream that did not stop.</summary>
    public IReadOnlyList<T> Flush() => Release(_pending.Count);

    private bool EndsWith(T[] stop, int length)
    {
        if (length > _pending.Count)
            return false;
        var offset = _pending.Count - length;
        for (var i = 0; i < length; i++)
        {
            if (!_pending[offset + i].Equals(stop[i]))
                return false;
        }
        return true;
    }

    private T[] Release(int count)
    {
        var released = _pending.GetRange(0, count).ToArray();
        // After a stop the rest is the stop sequence itself, never released.
        if (Stopped)
            _pending.Clear();
        else
            _pending.RemoveRange(0, count);
        return released;
    }
}
