namespace Tritter.Core.Model;

/// <summary>
/// One batch of <c>[batch, seq]</c> token ids, row-major, with the ids to predict at each position (usually the input
/// shifted by one; padding id 0 is ignored by the loss).
/// </summary>
/// <param name="Tokens">Input ids.</param>
/// <param name="Targets">Next-token ids, 0 where no loss applies.</param>
/// <param name="SegmentIds">Document id of each position, for document-boundary attention; null otherwise.</param>
/// <param name="PrefixLength">Bidirectional prefix length, for prefix-LM attention.</param>
public sealed record TrainingBatch(int[] Tokens, int[] Targets, int[]? SegmentIds = null, int PrefixLength = 0)
{
    /// <summary>Builds a next-token batch from <paramref name="sequences"/> of length seq + 1 each.</summary>
    public static TrainingBatch NextToken(IReadOnlyList<int[]> sequences)
    {
        var length = sequences[0].Length - 1;
        var tokens = new int[sequences.Count * length];
        var targets = new int[tokens.Length];
        for (var b = 0; b < sequences.Count; b++)
        {
            if (sequences[b].Length != length + 1)
                throw new ArgumentException($"sequence {b} has {sequences[b].Length} ids, expected {length + 1}", nameof(sequences));
            sequences[b].AsSpan(0, length).CopyTo(tokens.AsSpan(b * length));
            sequences[b].AsSpan(1, length).CopyTo(targets.AsSpan(b * length));
        }
        return new TrainingBatch(tokens, targets);
    }
}
