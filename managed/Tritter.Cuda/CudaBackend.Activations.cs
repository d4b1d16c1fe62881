using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Activations: <c>kernels/sqrelu.cu</c>.</summary>
public sealed partial class CudaBackend
{
    /// <inheritdoc />
    public void SquaredRelu(Tensor input, Tensor output)
    {
        var x = Float32(input, nameof(input));
        var y = Float32(output, nameof(output));
        TensorChecks.RequireSameCount(input, nameof(input), output, nameof(output));
        MakeCurrent();
        Kernel("sqrelu", "sqrelu_forward_f32").Launch(KernelLaunch.Elementwise(input.ElementCount, Device), Stream,
            x.Pointer, y.Pointer, input.ElementCount);
    }

    /// <inheritdoc />
    public void SquaredReluBackward(Tensor input, Tensor outputGradient, Tensor inputGradient)
    {
        var x = Float32(input, nameof(input));
        var dy = Float32(outputGradient, nameof(outputGradient));
        var dx = Float32(inputGradient, nameof(inputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), outputGradient, nameof(outputGradient));
        TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
        MakeCurrent();
        Kernel("sqrelu", "sqrelu_backward_f32").Launch(KernelLaunch.Elementwise(input.ElementCount, Device), Stream,
            x.Pointer, dy.Pointer, dx.Pointer, input.ElementCount);
    }

    /// <inheritdoc />
    public void SquaredReluGate(Tensor gate, Tensor up, Tensor output)
    {
        var (g, u, y) = (Float32(gate, nameof(gate)), Float32(up, nameof(up)), Float32(output, nameof(output)));
        var count = OpShapes.SquaredReluGate(gate, up, output);
        MakeCurrent();
        Kernel("sqrelu", "sqrelu_gate_forward_f32").Launch(KernelLaunch.Elementwise(count, Device), Stream, g.Pointer, u.Pointer, y.Pointer, count);
    }

    /// <inheritdoc />
    public void SquaredReluGateBackward(Tensor gate, Tensor up, Tensor outputGradient, Tensor gateGradient, Tensor upGradient)
    {
        var (g, u, dy) = (Float32(gate, nameof(gate)), Float32(up, nameof(up)), Float32(outputGradient, nameof(outputGradient)));
        var (dg, du) = (Float32(gateGradient, nameof(gateGradient)), Float32(upGradient, nameof(upGradient)));
        var count = OpShapes.SquaredReluGateBackward(gate, up, outputGradient, gateGradient, upGradient);
        MakeCurrent();
        Kernel("sqrelu", "sqrelu_gate_backward_f32").Launch(KernelLaunch.Elementwise(count, Device), Stream,
            g.Pointer, u.Pointer, dy.Pointer, dg.Pointer, du.Pointer, count);
    }
}
