using Tritter.Core.Config;

namespace Tritter.Core.Backends;

/// <summary>
/// Which keys each query sees. One definition for every backend, so masks agree bit for bit.
/// </summary>
/// <param name="Mode">The mask family.</param>
/// <param name="Window">Keys visible in <see cref="AttentionMode.SlidingWindow"/> mode, the query's own position included.</param>
/// <param name="PrefixLength">Positions that see each other bidirectionally in <see cref="AttentionMode.PrefixLm"/> mode.</param>
public readonly record struct AttentionMask(AttentionMode Mode, int Window = int.MaxValue, int PrefixLength = 0)
{
    /// <summary>Whether query position <paramref name="query"/> sees key position <paramref name="key"/>; segment ids only matter in document mode.</summary>
    public bool IsVisible(int query, int key, int querySegment, int keySegment) => Mode switch
    {
        AttentionMode.Bidirectional => true,
        AttentionMode.Causal => key <= query,
        AttentionMode.PrefixLm => key <= query || key < PrefixLength,
        AttentionMode.SlidingWindow => key <= query && query - key < Window,
        AttentionMode.DocumentBoundary => key <= query && querySegment == keySegment,
        _ => throw new InvalidOperationException($"unknown attention mode {Mode}"),
    };
}
