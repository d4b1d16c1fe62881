namespace Tritter.Core.Training;

/// <summary>
/// Picks training windows of <c>sequence + 1</c> tokens from one token stream. The window of (step, row) is a pure
/// function of the seed, the step and the row, so a resumed run draws exactly the windows an uninterrupted run would:
/// the sampler's whole state is the step number.
/// </summary>
public sealed class TokenWindowSampler
{
    private readonly ReadOnlyMemory<int> _tokens;
    private readonly ulong _seed;

    /// <summary>Samples from <paramref name="tokens"/>; it must hold at least one window.</summary>
    public TokenWindowSampler(ReadOnlyMemory<int> tokens, int batch, int sequence, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        if (tokens.Length < sequence + 1)
            throw new ArgumentException($"{tokens.Length} tokens cannot fill one window of {sequence + 1}", nameof(tokens));
        _tokens = tokens;
        _seed = seed;
        Batch = batch;
        Sequence = sequence;
    }

    /// <summary>Rows per batch.</summary>
    public int Batch { get; }

    /// <summary>Positions per row.</summary>
    public int Sequence { get; }

    /// <summary>The batch of step <paramref name="step"/> (1-based), as next-token inputs and targets.</summary>
    public Model.TrainingBatch BatchAt(int step)
    {
        var windows = new int[Batch][];
        var starts = _tokens.Length - Sequence;
        for (var row = 0; row < Batch; row++)
        {
            var start = (int)(Mix(_seed, (ulong)step, (ulong)row) % (ulong)starts);
            windows[row] = _tokens.Span.Slice(start, Sequence + 1).ToArray();
        }
        return Model.TrainingBatch.NextToken(windows);
    }

    /// <summary>SplitMix64 of the three inputs: cheap, stateless and well spread.</summary>
    private static ulong Mix(ulong seed, ulong step, ulong row)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * (step * 0x10001UL + row + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
