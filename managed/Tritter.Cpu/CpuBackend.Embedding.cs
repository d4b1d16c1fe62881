using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Embedding(Tensor tokens, Tensor table, Tensor output)
    {
        var ids = Typed(tokens, DType.Int32, nameof(tokens));
        var (_, width) = MatrixShape(table);
        TensorChecks.RequireCount(output, tokens.ElementCount * width, nameof(output));
        Ops.Embedding.Forward(ids.Span<int>(), Floats(table, nameof(table)), Floats(output, nameof(output)), width);
    }

    /// <inheritdoc />
    public void EmbeddingBackward(Tensor tokens, Tensor outputGradient, Tensor tableGradient)
    {
        var ids = Typed(tokens, DType.Int32, nameof(tokens));
        var (_, width) = MatrixShape(tableGradient);
        TensorChecks.RequireCount(outputGradient, tokens.ElementCount * width, nameof(outputGradient));
        Ops.Embedding.Backward(ids.Span<int>(), Floats(outputGradient, nameof(outputGradient)), Floats(tableGradient, nameof(tableGradient)), width);
    }
}
