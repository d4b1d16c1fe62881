using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>A trainable tensor under its reference state-dict name (DESIGN.md §4), with its gradient.</summary>
/// <param name="Name">State-dict name, e.g. <c>layers.0.attention.q_proj.weight</c>.</param>
/// <param name="Value">The parameter, float32, in its state-dict shape.</param>
/// <param name="Gradient">Its gradient, same shape; accumulated by the backward pass, zeroed by <see cref="TritterModel.ZeroGradients"/>.</param>
/// <param name="WeightDecay">Whether AdamW decays it (weights, scales, embedding) or not (biases, norms).</param>
public sealed record NamedParameter(string Name, Tensor Value, Tensor Gradient, bool WeightDecay);
