using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>One parameter of an <see cref="IOptimizerOps.AdamW"/> update and its state.</summary>
/// <param name="Parameter">The float32 weights, updated in place.</param>
/// <param name="Gradient">Their float32 gradient, one size with them.</param>
/// <param name="FirstMoment">The first moment, float32 or bfloat16 (every parameter of an update the same).</param>
/// <param name="SecondMoment">The second moment, of the first's type.</param>
/// <param name="Decays">Whether <see cref="AdamWSettings.WeightDecay"/> applies (not to biases and norms).</param>
public readonly record struct AdamWParameter(Tensor Parameter, Tensor Gradient, Tensor FirstMoment, Tensor SecondMoment, bool Decays);
