using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Token embedding: <c>kernels/embedding.cu</c>.</summary>
public sealed partial class CudaBackend : IEmbeddingOps
{
    /// <inheritdoc />
    /// <remarks>Token ids are checked on the device: a bad one is raised at the next synchronisation (CudaBackend.IdChecks.cs).</remarks>
    public void Embedding(Tensor tokens, Tensor table, Tensor output)
    {
        TensorChecks.RequireType(tokens, DType.Int32, nameof(tokens));
        var (vocab, width) = MatrixShape(table);
        TensorChecks.RequireCount(output, tokens.ElementCount * width, nameof(output));
        var (t, y) = (Float32(table, nameof(table)), Float32(output, nameof(output)));
        if (tokens.ElementCount == 0)
            return;
        MakeCurrent();
        Kernel("embedding", "embedding_forward_f32").Launch(KernelLaunch.BlockPerRow((int)tokens.ElementCount), Stream,
            Own(tokens).Pointer, t.Pointer, y.Pointer, width, vocab, IdErrorRecord);
    }

    /// <inheritdoc />
    /// <remarks>Token ids are checked on the device: a bad one is raised at the next synchronisation (CudaBackend.IdChecks.cs).</remarks>
    public void EmbeddingBackward(Tensor tokens, Tensor outputGradient, Tensor tableGradient)
    {
        TensorChecks.RequireType(tokens, DType.Int32, nameof(tokens));
        var (vocab, width) = MatrixShape(tableGradient);
        TensorChecks.RequireCount(outputGradient, tokens.ElementCount * width, nameof(outputGradient));
        var (dy, dt) = (Float32(outputGradient, nameof(outputGradient)), Float32(tableGradient, nameof(tableGradient)));
        var count = checked((int)tokens.ElementCount);
        if (count == 0)
            return;
        MakeCurrent();
        Kernel("embedding", "embedding_backward_f32").Launch(KernelLaunch.EmbeddingScatter(count, width), Stream,
            Own(tokens).Pointer, count, dy.Pointer, dt.Pointer, width, vocab, IdErrorRecord);
    }

    private static (int Rows, int Columns) MatrixShape(Tensor matrix)
    {
        TensorChecks.RequireRank(matrix, 2, nameof(matrix));
        return (matrix.Shape[0], matrix.Shape[1]);
    }
}
