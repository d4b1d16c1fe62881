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
        GatedRows(x.Pointer, y.Pointer, tokens, inter);
    }

    private void GatedRows(DevicePointer gateUp, DevicePointer output, int tokens, int inter) =>
        Kernel("decode_fused", "decode_gated_sqrelu_f32").Launch(KernelLaunch.Elementwise((long)tokens * inter, Device), Stream,
            gateUp, output, (long)tokens, inter);

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

    /// <summary>
    /// One row (a decode step) runs as one batch-1 GEMV whose prologue computes the input and whose epilogue adds the
    /// residual (<c>ternary_gemv_*_row1_normed</c> / <c>_gated</c>, <c>kernels/ternary_gemv.cu</c>); other batches, and rows
    /// too wide for its shared memory, run the unfused kernels on a staged input.
    /// </summary>
    public void FusedTernaryMatmul(TernaryInput input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor? residual, Tensor output)
    {
        var (rows, columns, outputs) = DecodeFusedShapes.FusedTernaryMatmul(input, arrangedWeight, scale, bias, residual, output);
        var (x, y, packed) = (Float32(input.Source, nameof(input)).Pointer, Float32(output, nameof(output)).Pointer, Own(arrangedWeight).Pointer);
        var r = residual is null ? default : Float32(residual, nameof(residual)).Pointer;
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var (scales, b, int8) = (PerFeatureScales(scale, outputs), BiasPointer(bias), scheme == TernaryScheme.Paper);
        var fusion = input switch
        {
            TernaryInput.Normed n => new Row1Fusion("_normed", Float32(n.Weight, "input.Weight").Pointer, Float32(n.Bias, "input.Bias").Pointer,
                n.Epsilon, columns >= KernelLaunch.BlockNormMinWidth, r),
            TernaryInput.Gated => Row1Fusion.None with { Suffix = "_gated", Residual = r },
            _ => Row1Fusion.None with { Residual = r },
        };
        if (rows == 1 && TryTernaryRow1(packed, outputs, columns, scales, b, x, y, int8, fusion))
            return;
        TernaryGemv(packed, outputs, columns, scales, b, Staged(input, x, rows, columns, fusion), y, rows, int8);
        if (residual is not null)
            Kernel("elementwise", "add_f32").Launch(KernelLaunch.Elementwise((long)rows * outputs, Device), Stream, r, y, y, (long)rows * outputs);
    }

    /// <summary>The activations of <paramref name="input"/> computed by its unfused kernel into scratch, or its rows as given.</summary>
    private DevicePointer Staged(TernaryInput input, DevicePointer source, int rows, int columns, Row1Fusion fusion)
    {
        if (input is TernaryInput.Rows)
            return source;
        var staged = Scratch("fused_ternary_input", DType.Float32, (long)rows * columns).Pointer;
        if (input is TernaryInput.Gated)
        {
            GatedRows(source, staged, rows, columns);
            return staged;
        }
        var (mean, reciprocalStd) = (Scratch("fused_ternary_mean", DType.Float32, rows), Scratch("fused_ternary_rstd", DType.Float32, rows));
        LayerNormRows(source, fusion.NormWeight, fusion.NormBias, staged, mean.Pointer, reciprocalStd.Pointer, rows, columns, fusion.Epsilon);
        return staged;
    }
}
