using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>The fused ops of a decode step: <c>kernels/decode_fused.cu</c>.</summary>
public sealed partial class CudaBackend : IDecodeFusedOps
{
    /// <inheritdoc />
    public void AttentionInputs(Tensor projection, Tensor queryNormWeight, Tensor queryNormBias, Tensor keyNormWeight, Tensor keyNormBias,
        float epsilon, double ropeTheta, long firstPosition, KvCacheInt4Layer cache, int firstSlot, Tensor query)
    {
        var (tokens, heads) = DecodeFusedShapes.AttentionInputs(projection, queryNormWeight, queryNormBias, keyNormWeight, keyNormBias,
            firstPosition, cache, firstSlot, query);
        var (qkv, q) = (Float32(projection, nameof(projection)), Float32(query, nameof(query)));
        var (qw, qb) = (Float32(queryNormWeight, nameof(queryNormWeight)), Float32(queryNormBias, nameof(queryNormBias)));
        var (kw, kb) = (Float32(keyNormWeight, nameof(keyNormWeight)), Float32(keyNormBias, nameof(keyNormBias)));
        var headDim = SupportedHeadDim(cache);
        if (tokens == 0)
            return;
        var (cosines, sines) = RopeAngles(tokens, headDim, ropeTheta, firstPosition);
        Kernel("decode_fused", $"decode_attention_inputs_d{headDim}").Launch(KernelLaunch.WarpPerRow(tokens * (heads + 2 * cache.KvHeads)), Stream,
            qkv.Pointer, qw.Pointer, qb.Pointer, kw.Pointer, kb.Pointer, epsilon, cosines, sines, tokens, heads, cache.KvHeads, cache.Capacity, firstSlot,
            Own(cache.KeyData).Pointer, Own(cache.KeyScales).Pointer, Own(cache.ValueData).Pointer, Own(cache.ValueScales).Pointer, q.Pointer,
            StepSlot(firstSlot));
    }

    /// <inheritdoc />
    public void GatedSquaredRelu(Tensor gateUp, Tensor output)
    {
        var (tokens, inter) = DecodeFusedShapes.GatedSquaredRelu(gateUp, output);
        var (x, y) = (Float32(gateUp, nameof(gateUp)), Float32(output, nameof(output)));
        if (output.ElementCount == 0)
            return;
        MakeCurrent();
        Kernel("decode_fused", "decode_gated_sqrelu_f32").Launch(KernelLaunch.Elementwise(output.ElementCount, Device), Stream,
            x.Pointer, y.Pointer, (long)tokens, inter);
    }

    /// <inheritdoc />
    public void AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon)
    {
        var (rows, width) = DecodeFusedShapes.AddLayerNorm(a, b, weight, bias, output);
        var (x, y, w, c, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        if (rows == 0)
            return;
        MakeCurrent();
        if (width >= KernelLaunch.BlockNormMinWidth)
            Kernel("decode_fused", "decode_add_layernorm_rows_f32").Launch(KernelLaunch.NormRowBlocks(rows, width), Stream,
                x.Pointer, y.Pointer, w.Pointer, c.Pointer, z.Pointer, width, epsilon);
        else
            Kernel("decode_fused", "decode_add_layernorm_f32").Launch(KernelLaunch.WarpPerRow(rows), Stream,
                x.Pointer, y.Pointer, w.Pointer, c.Pointer, z.Pointer, rows, width, epsilon);
    }
}
