using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Native.Cuda;

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
        GatedRows(x.Pointer, y.Pointer, (long)tokens * inter);
    }

    private void GatedRows(DevicePointer pairs, DevicePointer output, long count) =>
        Kernel("decode_fused", "decode_gated_sqrelu_f32").Launch(KernelLaunch.Elementwise(count, Device), Stream, pairs, output, count);

    /// <inheritdoc />
    public void AddLayerNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon)
    {
        var (rows, width) = DecodeFusedShapes.AddLayerNorm(a, b, weight, bias, output);
        var (x, y, w, c, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        if (rows == 0)
            return;
        MakeCurrent();
        AddLayerNormRows(x.Pointer, y.Pointer, w.Pointer, c.Pointer, z.Pointer, rows, width, epsilon, default);
    }

    /// <inheritdoc />
    public void AddLayerNormThenNorm(Tensor a, Tensor b, Tensor weight, Tensor bias, Tensor output, float epsilon,
        Tensor nextWeight, Tensor nextBias, float nextEpsilon, Tensor nextOutput)
    {
        var (rows, width) = DecodeFusedShapes.AddLayerNormThenNorm(a, b, weight, bias, output, nextWeight, nextBias, nextOutput);
        var (x, y, w, c, z) = (Float32(a, nameof(a)), Float32(b, nameof(b)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        var next = (Float32(nextWeight, nameof(nextWeight)).Pointer, Float32(nextBias, nameof(nextBias)).Pointer, nextEpsilon,
            Float32(nextOutput, nameof(nextOutput)).Pointer);
        if (rows == 0)
            return;
        MakeCurrent();
        AddLayerNormRows(x.Pointer, y.Pointer, w.Pointer, c.Pointer, z.Pointer, rows, width, epsilon, next);
    }

    private void AddLayerNormRows(DevicePointer a, DevicePointer b, DevicePointer weight, DevicePointer bias, DevicePointer output, int rows, int width,
        float epsilon, (DevicePointer Weight, DevicePointer Bias, float Epsilon, DevicePointer Output) next)
    {
        if (width >= KernelLaunch.BlockNormMinWidth)
            Kernel("decode_fused", "decode_add_layernorm_rows_f32").Launch(KernelLaunch.NormRowBlocks(rows, width), Stream,
                a, b, weight, bias, output, width, epsilon, next.Weight, next.Bias, next.Epsilon, next.Output);
        else
            Kernel("decode_fused", "decode_add_layernorm_f32").Launch(KernelLaunch.WarpPerRow(rows), Stream,
                a, b, weight, bias, output, rows, width, epsilon, next.Weight, next.Bias, next.Epsilon, next.Output);
    }

    /// <summary>One row (a decode step) adds the residual in the batch-1 GEMV's epilogue; other batches add it after the product.</summary>
    public void TernaryMatmulAdd(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor residual, Tensor output)
    {
        var (rows, columns, outputs) = DecodeFusedShapes.TernaryMatmulAdd(input, arrangedWeight, scale, bias, residual, output);
        var (x, r, y) = (Float32(input, nameof(input)).Pointer, Float32(residual, nameof(residual)).Pointer, Float32(output, nameof(output)).Pointer);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var (packed, scales, b, int8) = (Own(arrangedWeight).Pointer, PerFeatureScales(scale, outputs), BiasPointer(bias), scheme == TernaryScheme.Paper);
        if (rows == 1 && TryTernaryRow1(packed, outputs, columns, scales, b, x, y, int8, new Row1Epilogue(r, false)))
            return;
        TernaryGemv(packed, outputs, columns, scales, b, x, y, rows, int8);
        Kernel("elementwise", "add_f32").Launch(KernelLaunch.Elementwise((long)rows * outputs, Device), Stream, r, y, y, (long)rows * outputs);
    }

    /// <summary>
    /// One row (a decode step) writes the gated activation from the batch-1 GEMV's epilogue, the product never stored;
    /// other batches write the product to scratch and run <c>decode_gated_sqrelu_f32</c> on it.
    /// </summary>
    public void GatedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (rows, columns, outputs) = DecodeFusedShapes.GatedTernaryMatmul(input, arrangedWeight, scale, bias, output);
        var (x, y) = (Float32(input, nameof(input)).Pointer, Float32(output, nameof(output)).Pointer);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var (packed, scales, b, int8) = (Own(arrangedWeight).Pointer, PerFeatureScales(scale, outputs), BiasPointer(bias), scheme == TernaryScheme.Paper);
        if (rows == 1 && TryTernaryRow1(packed, outputs, columns, scales, b, x, y, int8, new Row1Epilogue(default, true)))
            return;
        var product = Scratch("gated_ternary_product", DType.Float32, (long)rows * outputs).Pointer;
        TernaryGemv(packed, outputs, columns, scales, b, x, product, rows, int8);
        GatedRows(product, y, (long)rows * outputs / 2);
    }
}
