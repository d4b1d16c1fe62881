namespace Tritter.Core.Ternary;

/// <summary>How full-precision weights become ternary, and which activations the matmul takes (DESIGN.md §1).</summary>
public enum TernaryScheme
{
    /// <summary>
    /// The PyTorch reference: per output row <c>alpha = mean(|w_row|)</c>, <c>q = sign(w)</c> where <c>|w| &gt; alpha</c>,
    /// else 0; a learnable per-row scale multiplies the output; float activations ("W1.58A16").
    /// </summary>
    Reference,

    /// <summary>
    /// BitNet b1.58 as published: per-tensor <c>gamma = mean(|W|)</c>, <c>q = clamp(round(W / gamma), -1, 1)</c>;
    /// activations quantised per token to int8 by absmax ("W1.58A8").
    /// </summary>
    Paper,
}
