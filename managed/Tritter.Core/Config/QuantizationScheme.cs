namespace Tritter.Core.Config;

/// <summary>How a ternary linear layer quantises its weights and activations (DESIGN.md §1).</summary>
public enum QuantizationScheme
{
    /// <summary>Per-row <c>alpha = mean|w|</c> threshold, learnable per-row scale, float activations (W1.58A16).</summary>
    Reference,
    /// <summary>Per-tensor <c>gamma = mean|W|</c> rounding, per-token absmax int8 activations (W1.58A8).</summary>
    Paper,
}
