using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// The activations a fused ternary product (<see cref="IDecodeFusedOps.FusedTernaryMatmul"/>) multiplies, each kind
/// computed from its source as the op it replaces computes it: the rows as given, their LayerNorm, or the gated MLP
/// activation of stacked gate|up rows.
/// </summary>
public abstract record TernaryInput
{
    private TernaryInput()
    {
    }

    /// <summary>The float32 rows the input is computed from.</summary>
    public abstract Tensor Source { get; }

    /// <summary>Activations per row, K of the product.</summary>
    public abstract int Columns { get; }

    /// <summary>The rows <c>[M, K]</c> as given.</summary>
    public sealed record Rows(Tensor Activations) : TernaryInput
    {
        /// <inheritdoc />
        public override Tensor Source => Activations;

        /// <inheritdoc />
        public override int Columns => Activations.Shape[-1];
    }

    /// <summary>
    /// <see cref="INormOps.LayerNorm"/> of the rows <c>[M, K]</c> with <paramref name="Weight"/> and <paramref name="Bias"/>
    /// of K elements: a block's input norm, fused into the product that reads it.
    /// </summary>
    public sealed record Normed(Tensor Activations, Tensor Weight, Tensor Bias, float Epsilon) : TernaryInput
    {
        /// <inheritdoc />
        public override Tensor Source => Activations;

        /// <inheritdoc />
        public override int Columns => Activations.Shape[-1];
    }

    /// <summary>
    /// <see cref="IDecodeFusedOps.GatedSquaredRelu"/> of stacked gate|up rows <c>[M, 2K]</c>: the MLP's activation, fused
    /// into its down product.
    /// </summary>
    public sealed record Gated(Tensor GateUp) : TernaryInput
    {
        /// <inheritdoc />
        public override Tensor Source => GateUp;

        /// <inheritdoc />
        public override int Columns => GateUp.Shape[-1] / 2;
    }
}
