using Tritter.Core.Config;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>
/// What one transformer block's forward pass saves for its backward pass. With activation recomputation one instance
/// serves every block in turn, bound to the block's input and output by <see cref="Bind"/>.
/// </summary>
internal sealed class BlockActivations
{
    public BlockActivations(TensorArena arena, TritterConfig config, int batch, int sequence, Tensor input, Tensor output)
    {
        var rows = batch * sequence;
        var (d, h, kv, hd, inter) = (config.HiddenSize, config.NumHeads, config.NumKvHeads, config.HeadDim, config.IntermediateSize);
        var quantize = LinearInput.IsQuantized(config);
        Input = input;
        Output = output;
        NormIn = arena.Float([batch, sequence, d]);
        NormInStatistics = arena.Statistics(rows);
        AttentionInput = arena.Input(NormIn, d, quantize);
        Query = arena.Float([batch, sequence, h, hd]);
        Key = arena.Float([batch, sequence, kv, hd]);
        Value = arena.Float([batch, sequence, kv, hd]);
        QueryNormed = arena.Float([batch, sequence, h, hd]);
        KeyNormed = arena.Float([batch, sequence, kv, hd]);
        QueryStatistics = arena.Statistics(rows * h);
        KeyStatistics = arena.Statistics(rows * kv);
        QueryRotated = arena.Float([batch, sequence, h, hd]);
        KeyRotated = arena.Float([batch, sequence, kv, hd]);
        LogSumExp = arena.Float([batch, h, sequence]);
        AttentionOutput = arena.Float([batch, sequence, h, hd]);
        OutputInput = arena.Input(AttentionOutput, d, quantize);
        Hidden = arena.Float([batch, sequence, d]);
        MlpInput = arena.Input(Hidden, d, quantize);
        Gate = arena.Float([batch, sequence, inter]);
        Up = arena.Float([batch, sequence, inter]);
        Gated = arena.Float([batch, sequence, inter]);
        DownInput = arena.Input(Gated, inter, quantize);
        PreNormOutput = arena.Float([batch, sequence, d]);
        NormPostStatistics = arena.Statistics(rows);
    }

    /// <summary>x, the block's input (the previous block's output).</summary>
    public Tensor Input { get; private set; }

    /// <summary>x' = LN_post(h + MLP(h)).</summary>
    public Tensor Output { get; private set; }

    /// <summary>Points this instance at another block's input and output.</summary>
    public BlockActivations Bind(Tensor input, Tensor output)
    {
        Input = input;
        Output = output;
        return this;
    }

    public Tensor NormIn { get; }
    public NormStatistics NormInStatistics { get; }
    public LinearInput AttentionInput { get; }
    public Tensor Query { get; }
    public Tensor Key { get; }
    public Tensor Value { get; }
    public Tensor QueryNormed { get; }
    public Tensor KeyNormed { get; }
    public NormStatistics QueryStatistics { get; }
    public NormStatistics KeyStatistics { get; }
    public Tensor QueryRotated { get; }
    public Tensor KeyRotated { get; }
    /// <summary>Each query row's softmax log-sum-exp, from which the attention backward recomputes the probabilities.</summary>
    public Tensor LogSumExp { get; }
    public Tensor AttentionOutput { get; }
    public LinearInput OutputInput { get; }

    /// <summary>h = x + Attn(LN_in(x)).</summary>
    public Tensor Hidden { get; }
    public LinearInput MlpInput { get; }
    public Tensor Gate { get; }
    public Tensor Up { get; }
    public Tensor Gated { get; }
    public LinearInput DownInput { get; }

    /// <summary>h + MLP(h), the input of the post-MLP LayerNorm.</summary>
    public Tensor PreNormOutput { get; }
    public NormStatistics NormPostStatistics { get; }
}

/// <summary>Gradient scratch for one block's backward pass, shared by all blocks (they run one after another).</summary>
internal sealed class BlockGradients(TensorArena arena, TritterConfig config, int batch, int sequence)
{
    public Tensor Hidden { get; } = arena.Float([batch, sequence, config.HiddenSize]);
    public Tensor Gated { get; } = arena.Float([batch, sequence, config.IntermediateSize]);
    public Tensor Gate { get; } = arena.Float([batch, sequence, config.IntermediateSize]);
    public Tensor Up { get; } = arena.Float([batch, sequence, config.IntermediateSize]);
    public Tensor AttentionOutput { get; } = arena.Float([batch, sequence, config.NumHeads, config.HeadDim]);
    public Tensor QueryRotated { get; } = arena.Float([batch, sequence, config.NumHeads, config.HeadDim]);
    public Tensor KeyRotated { get; } = arena.Float([batch, sequence, config.NumKvHeads, config.HeadDim]);
    public Tensor Query { get; } = arena.Float([batch, sequence, config.NumHeads, config.HeadDim]);
    public Tensor Key { get; } = arena.Float([batch, sequence, config.NumKvHeads, config.HeadDim]);
    public Tensor Value { get; } = arena.Float([batch, sequence, config.NumKvHeads, config.HeadDim]);
    public Tensor NormIn { get; } = arena.Float([batch, sequence, config.HiddenSize]);
}
