namespace Tritter.Text.Bpe;

/// <summary>How a byte-level BPE is trained.</summary>
public sealed record BpeTrainingOptions
{
    /// <summary>Tokens wanted in the text range: the 256 single bytes plus learned merges.</summary>
    public required int TextVocabularySize { get; init; }

    /// <summary>A pair seen fewer times than this is never merged; training stops early when none is left.</summary>
    public int MinPairCount { get; init; } = 2;

    /// <summary>Threads that count pre-tokenised pieces; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>Where training stands: documents counted, then merges learned of the wanted total.</summary>
/// <param name="Phase">"counting" while pieces are counted, "merging" while merges are learned.</param>
/// <param name="Done">Documents counted, or merges learned.</param>
/// <param name="Total">Merges wanted while merging; 0 while counting (the corpus size is not known up front).</param>
public readonly record struct BpeTrainingProgress(string Phase, long Done, long Total);
