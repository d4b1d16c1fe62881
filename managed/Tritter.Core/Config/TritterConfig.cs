namespace Tritter.Core.Config;

/// <summary>
/// Every architectural knob of a Tritter model. Properties are <c>required</c> so that a <c>config.json</c> missing one
/// is rejected rather than silently defaulted; <see cref="Validate"/> checks that they fit together.
/// </summary>
public sealed record TritterConfig
{
    /// <summary>Width of the residual stream.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Number of transformer blocks.</summary>
    public required int NumLayers { get; init; }

    /// <summary>Number of query heads.</summary>
    public required int NumHeads { get; init; }

    /// <summary>Number of key/value heads (grouped-query attention); equal to <see cref="NumHeads"/> for MHA.</summary>
    public required int NumKvHeads { get; init; }

    /// <summary>Width of one head; <c>NumHeads * HeadDim == HiddenSize</c>.</summary>
    public required int HeadDim { get; init; }

    /// <summary>Width of the gated MLP's hidden layer.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Number of token ids; id 0 is padding.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Longest sequence the model is built for.</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary>RoPE base.</summary>
    public required double RopeTheta { get; init; }

    /// <summary>LayerNorm epsilon (also QK-Norm's).</summary>
    public required double NormEpsilon { get; init; }

    /// <summary>Attention mask.</summary>
    public required AttentionMode AttentionMode { get; init; }

    /// <summary>Keys visible to a query in <see cref="AttentionMode.SlidingWindow"/> mode, itself included.</summary>
    public required int SlidingWindow { get; init; }

    /// <summary>Ternary projections (BitNet b1.58) when true; plain linear layers when false.</summary>
    public required bool UseBitnet { get; init; }

    /// <summary>Which ternary scheme the projections use.</summary>
    public required QuantizationScheme QuantizationScheme { get; init; }

    /// <summary>Weight of the embedding-prediction MSE in the hybrid loss; 0 is plain cross-entropy.</summary>
    public required double EmbeddingPredictionAlpha { get; init; }

    /// <summary>Width of the key and value projections.</summary>
    public int KvSize => NumKvHeads * HeadDim;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that is out of range or inconsistent.</summary>
    public void Validate()
    {
        RequirePositive(HiddenSize, "hidden_size");
        RequirePositive(NumLayers, "num_layers");
        RequirePositive(NumHeads, "num_heads");
        RequirePositive(NumKvHeads, "num_kv_heads");
        RequirePositive(HeadDim, "head_dim");
        RequirePositive(IntermediateSize, "intermediate_size");
        RequirePositive(VocabSize, "vocab_size");
        RequirePositive(MaxPositionEmbeddings, "max_position_embeddings");
        RequirePositive(SlidingWindow, "sliding_window");
        if (HiddenSize % NumHeads != 0)
            throw new ArgumentException($"num_heads ({NumHeads}) does not divide hidden_size ({HiddenSize})");
        if (NumHeads * HeadDim != HiddenSize)
            throw new ArgumentException($"head_dim ({HeadDim}) times num_heads ({NumHeads}) is not hidden_size ({HiddenSize})");
        if (NumHeads % NumKvHeads != 0)
            throw new ArgumentException($"num_kv_heads ({NumKvHeads}) does not divide num_heads ({NumHeads})");
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"head_dim ({HeadDim}) must be even for rotate-half RoPE");
        if (VocabSize < 8)
            throw new ArgumentException($"vocab_size ({VocabSize}) must hold the 8 special tokens");
        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
            throw new ArgumentException($"rope_theta ({RopeTheta}) must be positive and finite");
        if (!(NormEpsilon > 0) || NormEpsilon >= 1)
            throw new ArgumentException($"norm_epsilon ({NormEpsilon}) must be in (0, 1)");
        if (!(EmbeddingPredictionAlpha >= 0 && EmbeddingPredictionAlpha <= 1))
            throw new ArgumentException($"embedding_prediction_alpha ({EmbeddingPredictionAlpha}) must be in [0, 1]");
        if (!Enum.IsDefined(AttentionMode))
            throw new ArgumentException($"attention_mode ({AttentionMode}) is not a known mode");
        if (!Enum.IsDefined(QuantizationScheme))
            throw new ArgumentException($"quantization_scheme ({QuantizationScheme}) is not a known scheme");
    }

    /// <summary>Number of trainable parameters, per the reference state dict (DESIGN.md §4).</summary>
    public long ParameterCount
    {
        get
        {
            long hidden = HiddenSize, kv = KvSize, intermediate = IntermediateSize, vocab = VocabSize;
            var attention = Linear(hidden, hidden) + 2 * Linear(hidden, kv) + Linear(hidden, hidden) + 2 * 2L * HeadDim;
            var mlp = 2 * Linear(hidden, intermediate) + Linear(intermediate, hidden);
            var layer = attention + mlp + 2 * 2 * hidden;
            var head = vocab * hidden + (UseBitnet ? vocab : 0);
            return vocab * hidden + NumLayers * layer + 2 * hidden + head;
        }
    }

    /// <summary>Weight, bias, and with BitNet a per-row scale, of a projection from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    private long Linear(long inFeatures, long outFeatures) => outFeatures * inFeatures + outFeatures + (UseBitnet ? outFeatures : 0);

    private static void RequirePositive(int value, string field)
    {
        if (value <= 0)
            throw new ArgumentException($"{field} ({value}) must be positive");
    }
}
