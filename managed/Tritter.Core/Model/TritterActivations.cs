using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// The planned memory of one forward/backward pass at a fixed batch size and sequence length: every activation the
/// backward pass reads, the logits and loss buffers, and the gradient scratch, allocated once and reused every step.
/// </summary>
public sealed class TritterActivations : IDisposable
{
    private readonly TensorArena _arena;

    /// <summary>
    /// Bytes of logits (and as many of their gradient) one head chunk may hold: past this the output head runs in row
    /// chunks, so a 65,536-token vocabulary never needs a full <c>[tokens, vocab]</c> logits tensor.
    /// </summary>
    public const long LogitChunkBytes = 128L << 20;

    internal TritterActivations(ITensorStore store, TritterConfig config, int batch, int sequence, int? logitRows, bool recomputeBlocks)
    {
        if (batch <= 0 || sequence <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} and sequence {sequence} must be positive");
        if (sequence > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"longer than max_position_embeddings {config.MaxPositionEmbeddings}");
        Batch = batch;
        Sequence = sequence;
        var rows = batch * sequence;
        LogitRows = logitRows ?? (int)Math.Clamp(LogitChunkBytes / (4L * config.VocabSize), 1, rows);
        if (LogitRows <= 0 || LogitRows > rows)
            throw new ArgumentOutOfRangeException(nameof(logitRows), logitRows, $"logit rows must be in 1..{rows}");
        _arena = new TensorArena(store);
        var a = _arena;
        var d = config.HiddenSize;
        var quantize = LinearInput.IsQuantized(config);
        Tokens = a.Int32([batch, sequence]);
        Targets = a.Int32([batch, sequence]);
        SegmentIds = a.Int32([batch, sequence]);
        LayerOutputs = [.. Enumerable.Range(0, config.NumLayers + 1).Select(_ => a.Float([batch, sequence, d]))];
        RecomputesBlocks = recomputeBlocks;
        Blocks = [.. Enumerable.Range(0, recomputeBlocks ? 1 : config.NumLayers)
            .Select(i => new BlockActivations(a, config, batch, sequence, LayerOutputs[i], LayerOutputs[i + 1]))];
        Final = a.Float([batch, sequence, d]);
        FinalStatistics = a.Statistics(batch * sequence);
        HeadInput = a.Input(Final, d, quantize);
        Logits = a.Float([LogitRows, config.VocabSize]);
        LogitsGradient = a.Float([LogitRows, config.VocabSize]);
        TokenLosses = a.Float([batch, sequence]);
        TargetEmbeddings = a.Float([batch, sequence, d]);
        EmbeddingLosses = a.Float([batch, sequence]);
        EmbeddingLossGradient = a.Float([batch, sequence, d]);
        TargetEmbeddingGradient = a.Float([batch, sequence, d]);
        FinalGradient = a.Float([batch, sequence, d]);
        StreamGradients = [a.Float([batch, sequence, d]), a.Float([batch, sequence, d])];
        Scratch = new BlockGradients(a, config, batch, sequence);
    }

    /// <summary>Sequences per batch.</summary>
    public int Batch { get; }

    /// <summary>Positions per sequence.</summary>
    public int Sequence { get; }

    /// <summary>Bytes allocated for this pass.</summary>
    public long Bytes => _arena.Bytes;

    /// <summary>
    /// The <see cref="Bytes"/> a pass of <paramref name="batch"/> x <paramref name="sequence"/> would allocate (with
    /// <paramref name="recomputeBlocks"/> as <see cref="Training.TrainingOptions.RecomputeActivations"/>), measured by running
    /// this allocation plan against a store that holds no memory. Float32 products are assumed: with bf16 products a GPU
    /// pass also holds a bf16 copy of each projection input, half of its bytes again.
    /// </summary>
    public static long PlannedBytes(TritterConfig config, int batch, int sequence, bool recomputeBlocks)
    {
        using var store = new SizingStore();
        using var plan = new TritterActivations(store, config, batch, sequence, null, recomputeBlocks);
        return plan.Bytes;
    }

    /// <summary>Rows (positions over the whole batch) of one output-head chunk: all of them unless the logits would pass <see cref="LogitChunkBytes"/>.</summary>
    public int LogitRows { get; }

    /// <summary>
    /// Logits <c>[LogitRows, vocab]</c> of the head chunk computed last: after a forward pass with <see cref="LogitRows"/>
    /// equal to batch x sequence, the logits of every position.
    /// </summary>
    public Tensor Logits { get; }

    /// <summary>Final hidden states <c>[batch, seq, hidden]</c> (after the final LayerNorm): the predicted next-token embeddings.</summary>
    public Tensor Final { get; }

    internal Tensor Tokens { get; }
    internal Tensor Targets { get; }
    internal Tensor SegmentIds { get; }

    /// <summary>The mask of the last forward pass, which the attention backward recomputes its probabilities under.</summary>
    internal AttentionMask Mask { get; set; }
    internal Tensor[] LayerOutputs { get; }
    internal BlockActivations[] Blocks { get; }

    /// <summary>
    /// Whether one set of block activations serves every layer: the forward pass keeps only each layer's output, and
    /// the backward pass runs each block's forward again before its backward (about a third more compute for a
    /// number-of-layers-fold cut of the activation memory).
    /// </summary>
    public bool RecomputesBlocks { get; }

    /// <summary>The activations of layer <paramref name="layer"/>, bound to its input and output.</summary>
    internal BlockActivations Block(int layer) =>
        RecomputesBlocks ? Blocks[0].Bind(LayerOutputs[layer], LayerOutputs[layer + 1]) : Blocks[layer];
    internal NormStatistics FinalStatistics { get; }
    internal LinearInput HeadInput { get; }
    internal Tensor LogitsGradient { get; }

    /// <summary>The cross-entropy gradient's scale of the last forward pass, which the backward pass recomputes chunks with.</summary>
    internal float CrossEntropyScale { get; set; }
    internal Tensor TokenLosses { get; }
    internal Tensor TargetEmbeddings { get; }
    internal Tensor EmbeddingLosses { get; }
    internal Tensor EmbeddingLossGradient { get; }
    internal Tensor TargetEmbeddingGradient { get; }
    internal Tensor FinalGradient { get; }
    internal Tensor[] StreamGradients { get; }
    internal BlockGradients Scratch { get; }

    /// <summary>The embedding-prediction weight of the last forward pass, which its backward pass uses.</summary>
    internal double Alpha { get; set; }

    /// <summary>Frees every tensor of the pass.</summary>
    public void Dispose() => _arena.Dispose();
}
