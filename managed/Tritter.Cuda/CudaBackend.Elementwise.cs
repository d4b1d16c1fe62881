using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Element-wise arithmetic: <c>kernels/elementwise.cu</c>.</summary>
public sealed partial class CudaBackend : IElementwiseOps
{
    /// <inheritdoc />
    public void Add(Tensor a, Tensor b, Tensor output) => Binary("add_f32", a, b, output);

    /// <inheritdoc />
    public void Accumulate(Tensor source, Tensor destination)
    {
        var (x, y) = (Float32(source, nameof(source)), Float32(destination, nameof(destination)));
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        MakeCurrent();
        Kernel("elementwise", "accumulate_f32").Launch(KernelLaunch.Elementwise(source.ElementCount, Device), Stream,
            x.Pointer, y.Pointer, source.ElementCount);
    }

    /// <inheritdoc />
    public void Multiply(Tensor a, Tensor b, Tensor output) => Binary("multiply_f32", a, b, output);

    /// <inheritdoc />
    public void Fill(Tensor tensor, float value)
    {
        var x = Float32(tensor, nameof(tensor));
        MakeCurrent();
        Kernel("elementwise", "fill_f32").Launch(KernelLaunch.Elementwise(tensor.ElementCount, Device), Stream,
            x.Pointer, value, tensor.ElementCount);
    }

    /// <inheritdoc />
    public void Copy(Tensor source, Tensor destination)
    {
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        var (x, y) = (Float32(source, nameof(source)), Float32(destination, nameof(destination)));
        MakeCurrent();
        Kernel("elementwise", "copy_f32").Launch(KernelLaunch.Elementwise(source.ElementCount, Device), Stream,
            x.Pointer, y.Pointer, source.ElementCount);
    }

    private void Binary(string kernel, Tensor a, Tensor b, Tensor output)
    {
        var (x, y, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(output, nameof(output)));
        TensorChecks.RequireSameCount(a, nameof(a), b, nameof(b));
        TensorChecks.RequireSameCount(a, nameof(a), output, nameof(output));
        MakeCurrent();
        Kernel("elementwise", kernel).Launch(KernelLaunch.Elementwise(a.ElementCount, Device), Stream,
            x.Pointer, y.Pointer, z.Pointer, a.ElementCount);
    }
}
