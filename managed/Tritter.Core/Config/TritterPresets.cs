namespace Tritter.Core.Config;

/// <summary>The model presets of DESIGN.md §1, plus small ones for tests and CPU training.</summary>
public static class TritterPresets
{
    private const int ReferenceVocab = 65536;
    private const int ReferencePositions = 131072;

    /// <summary>The preset names, smallest first.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["tiny", "small", "1B", "3B", "7B", "10B", "13B", "30B", "33B", "40B", "65B", "70B"];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    public static TritterConfig Get(string name) => name.ToUpperInvariant() switch
    {
        "TINY" => Build(64, 2, 4, 2, 172, vocab: 512, positions: 256),
        "SMALL" => Build(128, 4, 4, 2, 344, vocab: 4096, positions: 512),
        "1B" => Build(2048, 16, 16, 16, 5632),
        "3B" => Build(2560, 26, 20, 20, 6912),
        "7B" => Build(4096, 32, 32, 8, 11008),
        "10B" => Build(4096, 40, 32, 8, 14336),
        "13B" => Build(5120, 40, 40, 8, 13824),
        // The reference's table gives 30B 8 KV heads, which do not divide its 52 query heads; 4 is the nearest that does.
        "30B" => Build(6656, 60, 52, 4, 17920),
        "33B" => Build(6912, 60, 54, 6, 18432),
        "40B" => Build(8192, 60, 64, 8, 21760),
        "65B" => Build(8192, 80, 64, 8, 22016),
        "70B" => Build(8192, 80, 64, 8, 28672),
        _ => throw new ArgumentException($"unknown preset '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    private static TritterConfig Build(int hidden, int layers, int heads, int kvHeads, int intermediate,
        int vocab = ReferenceVocab, int positions = ReferencePositions) => new()
        {
            HiddenSize = hidden,
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = hidden / heads,
            IntermediateSize = intermediate,
            VocabSize = vocab,
            MaxPositionEmbeddings = positions,
            RopeTheta = 500000,
            NormEpsilon = 1e-5,
            AttentionMode = AttentionMode.Causal,
            SlidingWindow = 4096,
            UseBitnet = true,
            QuantizationScheme = QuantizationScheme.Reference,
            EmbeddingPredictionAlpha = 0,
        };
}
