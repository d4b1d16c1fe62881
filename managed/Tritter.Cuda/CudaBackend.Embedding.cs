using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>Token embedding: <c>kernels/embedding.cu</c>.</summary>
public sealed partial class CudaBackend : IEmbeddingOps
{
    /// <summary>The padding id, whose table row gets no gradient.</summary>
    private const int PaddingId = 0;

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
    public void EmbeddingBackward(Tensor tokens, Tensor outputGradient, Tensor tableGradient)
    {
        TensorChecks.RequireType(tokens, DType.Int32, nameof(tokens));
        var (vocab, width) = MatrixShape(tableGradient);
        TensorChecks.RequireCount(outputGradient, tokens.ElementCount * width, nameof(outputGradient));
        var (dy, dt) = (Float32(outputGradient, nameof(outputGradient)), Float32(tableGradient, nameof(tableGradient)));
        var plan = ScatterPlan(ReadIds(tokens, vocab, "token", "token id at position"), out var distinct);
        if (distinct == 0)
            return;
        var device = WriteScratch<int>("embedding_plan", plan);
        Kernel("embedding", "embedding_backward_f32").Launch(KernelLaunch.EmbeddingScatter(distinct, width), Stream,
            device.Pointer, distinct, dy.Pointer, dt.Pointer, width);
    }

    /// <summary>
    /// Groups token positions by id for the scatter kernel: <c>[ids] [offsets (ids + 1)] [positions]</c>, ids ascending,
    /// each id's positions ascending (the CPU's accumulation order); padding is left out.
    /// </summary>
    private static int[] ScatterPlan(int[] ids, out int distinct)
    {
        var keys = new List<long>(ids.Length);
        for (var n = 0; n < ids.Length; n++)
        {
            if (ids[n] != PaddingId)
                keys.Add(((long)ids[n] << 32) | (uint)n);
        }
        keys.Sort();
        distinct = 0;
        for (var k = 0; k < keys.Count; k++)
        {
            if (k == 0 || keys[k] >> 32 != keys[k - 1] >> 32)
                distinct++;
        }
        var plan = new int[2 * distinct + 1 + keys.Count];
        var positions = plan.AsSpan(2 * distinct + 1);
        var u = -1;
        for (var k = 0; k < keys.Count; k++)
        {
            var id = (int)(keys[k] >> 32);
            if (u < 0 || plan[u] != id)
            {
                plan[++u] = id;
                plan[distinct + u] = k;
            }
            positions[k] = (int)keys[k];
        }
        plan[2 * distinct] = keys.Count;
        return plan;
    }

    private static (int Rows, int Columns) MatrixShape(Tensor matrix)
    {
        TensorChecks.RequireRank(matrix, 2, nameof(matrix));
        return (matrix.Shape[0], matrix.Shape[1]);
    }
}
