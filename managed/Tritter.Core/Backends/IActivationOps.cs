using Tritter.Core.Tensors;

namespace Tritter.Core.Backends;

/// <summary>Element-wise activations of the gated MLP.</summary>
public interface IActivationOps
{
    /// <summary><c>output = relu(input)^2</c>, element-wise over float32 tensors of one size.</summary>
    void SquaredRelu(Tensor input, Tensor output);

    /// <summary><c>inputGradient = 2 relu(input) * outputGradient</c>, element-wise.</summary>
    void SquaredReluBackward(Tensor input, Tensor outputGradient, Tensor inputGradient);
}
