using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>
/// Rotary position embedding in the rotate-half form over tensors <c>[batch, seq, heads, head_dim]</c>: with
/// <c>x = [x1, x2]</c> split at head_dim/2 and angle <c>t * theta^(-2i/head_dim)</c> at position t,
/// <c>y = [x1 cos - x2 sin, x2 cos + x1 sin]</c>.
/// </summary>
public interface IRopeOps
{
    /// <summary>Rotates <paramref name="input"/> into <paramref name="output"/> (the two may be the same tensor).</summary>
    void Rope(Tensor input, Tensor output, double theta);

    /// <summary>
    /// Rotates as <see cref="Rope(Tensor, Tensor, double)"/> with sequence index t at position
    /// <paramref name="firstPosition"/> + t: the positions of tokens appended after <paramref name="firstPosition"/>
    /// others, as a KV-cache decoder needs.
    /// </summary>
    void Rope(Tensor input, Tensor output, double theta, long firstPosition);

    /// <summary>The transpose rotation, which is the gradient (the two may be the same tensor).</summary>
    void RopeBackward(Tensor outputGradient, Tensor inputGradient, double theta);
}
