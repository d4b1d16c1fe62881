namespace Tritter.Core.Backends;

/// <summary>One AdamW update's hyper-parameters.</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Denominator guard.</param>
/// <param name="WeightDecay">Decoupled decay, applied as <c>p -= lr * decay * p</c> to the parameters that decay (<see cref="AdamWParameter.Decays"/>).</param>
/// <param name="Step">1-based step number, for bias correction.</param>
/// <param name="GradientScale">Multiplies the gradient before use (global-norm clipping).</param>
public readonly record struct AdamWSettings(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step, float GradientScale);
