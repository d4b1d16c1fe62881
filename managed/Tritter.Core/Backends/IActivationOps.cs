using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Element-wise activations of the gated MLP.</summary>
public interface IActivationOps
{
    /// <summary><c>output = relu(input)^2</c>, element-wise over float32 tensors of one size.</summary>
    void SquaredRelu(Tensor input, Tensor output);

    /// <summary><c>inputGradient = 2 relu(input) * outputGradient</c>, element-wise.</summary>
    void SquaredReluBackward(Tensor input, Tensor outputGradient, Tensor inputGradient);

    /// <summary>
    /// The gated MLP's activation <c>output = relu(gate)^2 * up</c>, element-wise over float32 tensors of one size: the
    /// values of <see cref="SquaredRelu"/> then a product, without the intermediate tensor.
    /// </summary>
    void SquaredReluGate(Tensor gate, Tensor up, Tensor output);

    /// <summary>
    /// The gradients of <see cref="SquaredReluGate"/>: <c>gateGradient = 2 relu(gate) * (outputGradient * up)</c> and
    /// <c>upGradient = outputGradient * relu(gate)^2</c>, in that order of operations (the unfused sequence's values),
    /// recomputing <c>relu(gate)^2</c> instead of reading it.
    /// </summary>
    void SquaredReluGateBackward(Tensor gate, Tensor up, Tensor outputGradient, Tensor gateGradient, Tensor upGradient);
}
