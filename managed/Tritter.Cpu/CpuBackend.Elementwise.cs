using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Add(Tensor a, Tensor b, Tensor output)
    {
        var (x, y, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(output, nameof(output)));
        TensorChecks.RequireSameCount(a, nameof(a), b, nameof(b));
        TensorChecks.RequireSameCount(a, nameof(a), output, nameof(output));
        CpuParallel.ForChunks(a.ElementCount, (start, length) =>
            Ops.Elementwise.Add(x.Span<float>().Slice(start, length), y.Span<float>().Slice(start, length), z.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void Accumulate(Tensor source, Tensor destination)
    {
        var (x, y) = (Float32(source, nameof(source)), Float32(destination, nameof(destination)));
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        CpuParallel.ForChunks(source.ElementCount, (start, length) =>
            Ops.Elementwise.Accumulate(x.Span<float>().Slice(start, length), y.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void Multiply(Tensor a, Tensor b, Tensor output)
    {
        var (x, y, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(output, nameof(output)));
        TensorChecks.RequireSameCount(a, nameof(a), b, nameof(b));
        TensorChecks.RequireSameCount(a, nameof(a), output, nameof(output));
        CpuParallel.ForChunks(a.ElementCount, (start, length) =>
            Ops.Elementwise.Multiply(x.Span<float>().Slice(start, length), y.Span<float>().Slice(start, length), z.Span<float>().Slice(start, length)));
    }

    /// <inheritdoc />
    public void Fill(Tensor tensor, float value) => Floats(tensor, nameof(tensor)).Fill(value);

    /// <inheritdoc />
    public void Copy(Tensor source, Tensor destination)
    {
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        Floats(source, nameof(source)).CopyTo(Floats(destination, nameof(destination)));
    }
}
