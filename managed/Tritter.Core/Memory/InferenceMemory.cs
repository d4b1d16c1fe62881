using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Ternary;

namespace Tritter.Core.Memory;

/// <summary>
/// What a model of a configuration occupies when built for generation, as the decode engine stores it: with BitNet on,
/// every projection and the output head as 2-bit codes (rows padded to <see cref="TernaryPacking.ColumnAlignment"/>
/// weights, docs/formats/ternary-packing.md) with a float32 scale per row (the paper scheme's one per matrix repeated
/// over its rows, since the engine stacks projections of one input into one) and float32 biases; with it off, float32 weights. LayerNorms, the embedding table and biases stay float32.
/// </summary>
public sealed class InferenceMemory
{
    /// <summary>Sizes the parts of <paramref name="config"/>.</summary>
    public InferenceMemory(TritterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        long d = config.HiddenSize, kv = config.KvSize, inter = config.IntermediateSize;
        (int In, int Out)[] projections = [(config.HiddenSize, config.HiddenSize), (config.HiddenSize, config.KvSize), (config.HiddenSize, config.KvSize),
            (config.HiddenSize, config.HiddenSize), (config.HiddenSize, config.IntermediateSize), (config.HiddenSize, config.IntermediateSize),
            (config.IntermediateSize, config.HiddenSize)];
        var layerWeights = projections.Sum(p => WeightBytes(p.In, p.Out));
        var layerBiases = (3 * d + 2 * kv + 2 * inter) * sizeof(float);
        // input_layernorm and post_mlp_layernorm over hidden, q_norm and k_norm over head_dim; weight and bias each.
        var layerNorms = (2 * 2 * d + 2 * 2L * config.HeadDim) * sizeof(float);
        LayerBytes = layerWeights + layerBiases + layerNorms;
        EmbeddingBytes = (long)config.VocabSize * d * sizeof(float);
        HeadBytes = WeightBytes(config.HiddenSize, config.VocabSize);
        FinalNormBytes = 2 * d * sizeof(float);
        ProjectionBytes = config.NumLayers * layerWeights;
        BiasAndNormBytes = config.NumLayers * (layerBiases + layerNorms) + FinalNormBytes;
    }

    /// <summary>The configuration sized.</summary>
    public TritterConfig Config { get; }

    /// <summary>One transformer block: projections (codes and scales), biases and norms.</summary>
    public long LayerBytes { get; }

    /// <summary>The projections of every block (codes and scales).</summary>
    public long ProjectionBytes { get; }

    /// <summary>Biases and LayerNorm parameters of every block, and the final LayerNorm.</summary>
    public long BiasAndNormBytes { get; }

    /// <summary>The final LayerNorm alone.</summary>
    public long FinalNormBytes { get; }

    /// <summary>The float32 embedding table <c>[vocab, hidden]</c>.</summary>
    public long EmbeddingBytes { get; }

    /// <summary>The output head (codes and scales; it has no bias).</summary>
    public long HeadBytes { get; }

    /// <summary>Every weight: blocks, embedding, final norm and head.</summary>
    public long WeightBytes() => Config.NumLayers * LayerBytes + EmbeddingBytes + FinalNormBytes + HeadBytes;

    /// <summary>Whether the INT4 cache can hold this model's heads (its groups of 32 must tile head_dim).</summary>
    public bool SupportsInt4 => Config.HeadDim % KvCacheInt4Layer.GroupSize == 0;

    /// <summary>Keys and values of one position over every layer and KV head.</summary>
    public long KvBytesPerToken(KvPrecision precision)
    {
        long perHead = precision switch
        {
            KvPrecision.Fp16 => 2L * Config.HeadDim,
            KvPrecision.Int4 when SupportsInt4 => Config.HeadDim / 2 + Config.HeadDim / KvCacheInt4Layer.GroupSize * 2L,
            KvPrecision.Int4 => throw new InvalidOperationException($"head_dim {Config.HeadDim} is not a multiple of {KvCacheInt4Layer.GroupSize}: no INT4 cache"),
            _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
        };
        return 2 * perHead * Config.NumKvHeads * Config.NumLayers;
    }

    /// <summary>A cache of <paramref name="context"/> positions; the cache allocates whole blocks of <see cref="KvCacheInt4Layer.CapacityAlignment"/> slots.</summary>
    public long KvCacheBytes(KvPrecision precision, int context) => KvCapacity(context) * KvBytesPerToken(precision);

    /// <summary>Slots a cache for <paramref name="context"/> positions allocates.</summary>
    public static long KvCapacity(int context)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        const int align = KvCacheInt4Layer.CapacityAlignment;
        return ((long)context + align - 1) / align * align;
    }

    /// <summary>
    /// The float32 scratch of a forward step over <paramref name="tokens"/> new tokens (1 when decoding), reused layer
    /// after layer, as the decode engine lays it out: eight hidden-wide rows (stream, norm, attention rows and output,
    /// projection, hidden, down, pre-norm, final), four of query width (raw, rotated, cache query, attention output),
    /// four of KV width, four of MLP width, the logits, and the LayerNorm statistics.
    /// </summary>
    public long DecodeActivationBytes(int tokens = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var c = Config;
        long perToken = 8L * c.HiddenSize + 4L * c.NumHeads * c.HeadDim + 4L * c.KvSize + 4L * c.IntermediateSize + c.VocabSize
            + 2L * (1 + c.NumHeads + c.NumKvHeads);
        return tokens * (perToken * sizeof(float) + sizeof(int));
    }

    /// <summary>2-bit codes and scales of a ternary <c>[out, in]</c> matrix, or its float32 weights with BitNet off.</summary>
    private long WeightBytes(int inFeatures, int outFeatures)
    {
        if (!Config.UseBitnet)
            return (long)outFeatures * inFeatures * sizeof(float);
        var codes = (long)outFeatures * TernaryPacking.WordsPerRow(inFeatures) * sizeof(uint);
        return codes + (long)outFeatures * sizeof(float);
    }
}
