namespace Tritter.Core.Checkpoints;

/// <summary>
/// Tensor names of a checkpoint, as the reference's PyTorch state dict spells them (DESIGN.md §4), so checkpoints move
/// between the two; and the names of the AdamW moments of a parameter in the optimizer file.
/// </summary>
public static class CheckpointNames
{
    /// <summary>The token embedding, <c>[vocab, hidden]</c>.</summary>
    public const string Embedding = "embed_tokens.embedding.weight";

    /// <summary>Prefix of the final LayerNorm's <c>weight</c> and <c>bias</c>.</summary>
    public const string FinalNorm = "norm";

    /// <summary>Prefix of the output head's <c>weight [vocab, hidden]</c> and <c>scale [vocab, 1]</c> (no bias).</summary>
    public const string LmHead = "lm_head";

    /// <summary>Prefix of attention projection <paramref name="projection"/> (q, k, v or o) of layer <paramref name="layer"/>.</summary>
    public static string Attention(int layer, char projection) => projection is 'q' or 'k' or 'v' or 'o'
        ? $"layers.{layer}.attention.{projection}_proj"
        : throw new ArgumentOutOfRangeException(nameof(projection), projection, "attention projections are q, k, v and o");

    /// <summary>Prefix of the QK-Norm of <paramref name="projection"/> (q or k) of layer <paramref name="layer"/>.</summary>
    public static string QkNorm(int layer, char projection) => projection is 'q' or 'k'
        ? $"layers.{layer}.attention.{projection}_norm"
        : throw new ArgumentOutOfRangeException(nameof(projection), projection, "QK-Norm exists for q and k");

    /// <summary>Prefix of MLP projection <paramref name="projection"/> (gate, up or down) of layer <paramref name="layer"/>.</summary>
    public static string Mlp(int layer, string projection) => projection is "gate" or "up" or "down"
        ? $"layers.{layer}.mlp.{projection}_proj"
        : throw new ArgumentOutOfRangeException(nameof(projection), projection, "MLP projections are gate, up and down");

    /// <summary>Prefix of the LayerNorm before attention of layer <paramref name="layer"/>.</summary>
    public static string InputNorm(int layer) => $"layers.{layer}.input_layernorm";

    /// <summary>Prefix of the LayerNorm after the MLP of layer <paramref name="layer"/>.</summary>
    public static string PostMlpNorm(int layer) => $"layers.{layer}.post_mlp_layernorm";

    /// <summary>AdamW's first moment of <paramref name="parameter"/>, as PyTorch's optimizer state names it.</summary>
    public static string ExpAvg(string parameter) => parameter + ".exp_avg";

    /// <summary>AdamW's second moment of <paramref name="parameter"/>.</summary>
    public static string ExpAvgSq(string parameter) => parameter + ".exp_avg_sq";
}
