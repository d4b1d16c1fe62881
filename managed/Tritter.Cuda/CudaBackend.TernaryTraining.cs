using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>BitNet b1.58 quantisers (<c>kernels/ternary_train.cu</c>) and the W1.58A8 int8 product (<c>kernels/ternary_gemm.cu</c>).</summary>
public sealed partial class CudaBackend : ITernaryOps
{
    /// <inheritdoc />
    public void TernarizeRows(Tensor weight, Tensor scale, Tensor effectiveWeight)
    {
        var (w, s) = (Float32(weight, nameof(weight)), Float32(scale, nameof(scale)));
        var (rows, width) = TernaryShapes.TernarizeRows(weight, scale, effectiveWeight);
        var bf16 = effectiveWeight.Type == DType.BFloat16;
        var e = bf16 ? Own(effectiveWeight) : Float32(effectiveWeight, nameof(effectiveWeight));
        if (rows == 0 || width == 0)
            return;
        MakeCurrent();
        Kernel("ternary_train", bf16 ? "ternarize_rows_bf16" : "ternarize_rows_f32").Launch(KernelLaunch.BlockPerRow(rows), Stream, w.Pointer, s.Pointer, e.Pointer, width);
    }

    /// <inheritdoc />
    public void TernarizeRowsBackward(Tensor weight, Tensor effectiveWeightGradient, Tensor scale, Tensor weightGradient, Tensor scaleGradient, bool overwrite = false)
    {
        var (w, ge, s) = (Float32(weight, nameof(weight)), Float32(effectiveWeightGradient, nameof(effectiveWeightGradient)), Float32(scale, nameof(scale)));
        var (gw, gs) = (Float32(weightGradient, nameof(weightGradient)), Float32(scaleGradient, nameof(scaleGradient)));
        var (rows, width) = TernaryShapes.TernarizeRowsBackward(weight, effectiveWeightGradient, scale, weightGradient, scaleGradient);
        if (rows == 0 || width == 0)
            return;
        MakeCurrent();
        Kernel("ternary_train", overwrite ? "ternarize_rows_backward_set_f32" : "ternarize_rows_backward_f32").Launch(KernelLaunch.BlockPerRow(rows), Stream,
            w.Pointer, ge.Pointer, s.Pointer, gw.Pointer, gs.Pointer, width);
    }

    /// <inheritdoc />
    public void TernarizeTensor(Tensor weight, Tensor quantized, Tensor gamma, Tensor effectiveWeight)
    {
        var (w, g, e) = (Float32(weight, nameof(weight)), Float32(gamma, nameof(gamma)), Float32(effectiveWeight, nameof(effectiveWeight)));
        var count = TernaryShapes.TernarizeTensor(weight, quantized, gamma, effectiveWeight);
        if (count == 0)
            return;
        var chunks = KernelLaunch.MagnitudeChunks(count);
        var partials = Scratch("ternary_magnitude_partials", DType.Float32, chunks);
        MakeCurrent();
        Kernel("ternary_train", "ternary_magnitude_partials_f32").Launch(KernelLaunch.BlockPerRow(chunks), Stream, w.Pointer, count, partials.Pointer);
        Kernel("ternary_train", "ternary_gamma_f32").Launch(KernelLaunch.BlockPerRow(1), Stream, partials.Pointer, chunks, count, g.Pointer);
        Kernel("ternary_train", "ternarize_tensor_f32").Launch(KernelLaunch.Elementwise(count, Device), Stream,
            w.Pointer, g.Pointer, count, Own(quantized).Pointer, e.Pointer);
    }

    /// <inheritdoc />
    public void QuantizeActivations(Tensor input, Tensor quantized, Tensor rowScale, Tensor dequantized)
    {
        var (x, s, d) = (Float32(input, nameof(input)), Float32(rowScale, nameof(rowScale)), Float32(dequantized, nameof(dequantized)));
        var (rows, width) = TernaryShapes.QuantizeActivations(input, quantized, rowScale, dequantized);
        if (rows == 0)
            return;
        MakeCurrent();
        Kernel("ternary_train", "quantize_activations_f32").Launch(KernelLaunch.BlockPerRow(rows), Stream,
            x.Pointer, width, Own(quantized).Pointer, s.Pointer, d.Pointer);
    }

    /// <inheritdoc />
    public void TernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor quantizedWeight, Tensor gamma, Tensor? bias, Tensor output)
    {
        var (s, g, y) = (Float32(rowScale, nameof(rowScale)), Float32(gamma, nameof(gamma)), Float32(output, nameof(output)));
        var b = bias is null ? default : Float32(bias, nameof(bias)).Pointer;
        var (rows, inFeatures, outFeatures) = TernaryShapes.TernaryInt8Matmul(quantizedInput, rowScale, quantizedWeight, gamma, bias, output);
        if (rows == 0 || outFeatures == 0)
            return;
        MakeCurrent();
        if (UseWgmma)
        {
            TernaryGemmWgmma(Own(quantizedInput).Pointer, s.Pointer, Own(quantizedWeight).Pointer, g.Pointer, b, y.Pointer, rows, inFeatures, outFeatures);
            return;
        }
        var tiles = KernelLaunch.TernaryGemmTiles(inFeatures);
        var layout = Scratch("ternary_gemm_layout", DType.Int32, (long)outFeatures * tiles * 8);
        Kernel("ternary_gemm", "ternary_gemm_layout_i8").Launch(KernelLaunch.Elementwise((long)outFeatures * tiles, Device), Stream,
            Own(quantizedWeight).Pointer, inFeatures, outFeatures, tiles, layout.Pointer);
        TernaryGemm(Own(quantizedInput).Pointer, s.Pointer, layout.Pointer, g.Pointer, perRowScale: false, b, y.Pointer, rows, inFeatures, outFeatures);
    }

    /// <summary>
    /// The W1.58A8 GEMM of <c>kernels/ternary_gemm.cu</c> on weights already in its layout. Activations whose rows are
    /// not whole 16-byte chunks are first copied, zero-padded, into a scratch buffer (the kernel streams 16-byte pieces).
    /// </summary>
    private void TernaryGemm(DevicePointer x, DevicePointer rowScale, DevicePointer layout, DevicePointer scale, bool perRowScale, DevicePointer bias,
        DevicePointer output, int rows, int columns, int outputs)
    {
        var k = Int8Chunks("ternary_gemm_input", ref x, rows, columns);
        var (kernel, geometry) = KernelLaunch.TernaryGemm(rows, outputs, Device);
        Kernel("ternary_gemm", kernel, geometry.SharedMemoryBytes).Launch(geometry, Stream,
            x, rowScale, layout, scale, perRowScale ? 1 : 0, bias, output, rows, k, outputs);
    }

    /// <summary>
    /// <see cref="TernaryInt8Matmul"/> on Hopper's int8 wgmma (<c>kernels/ternary_gemm_sm90a.cu</c>), straight from the
    /// int8 codes: no layout pass; rows that are not whole 16-byte chunks are padded as for <see cref="TernaryGemm"/>.
    /// </summary>
    private void TernaryGemmWgmma(DevicePointer x, DevicePointer rowScale, DevicePointer codes, DevicePointer scale, DevicePointer bias,
        DevicePointer output, int rows, int columns, int outputs)
    {
        var ld = Int8Chunks("ternary_gemm_input", ref x, rows, columns);
        Int8Chunks("ternary_gemm_codes", ref codes, outputs, columns);
        MatmulKernel("ternary_gemm_sm90a", "ternary_gemm_i8_wgmma", KernelLaunch.MatmulWgmmaSharedBytes).Launch(KernelLaunch.MatmulWgmma(rows, outputs), Stream,
            x, rowScale, codes, scale, 0, bias, output, rows, columns, ld, outputs);
    }

    /// <summary>
    /// The row length, a whole number of 16-byte chunks, an int8 matrix <c>[rows, columns]</c> at <paramref name="matrix"/>
    /// is streamed with: its own where its rows already are whole chunks (and it is 16-byte aligned), else that of a
    /// zero-padded copy in the scratch buffer <paramref name="name"/>, which <paramref name="matrix"/> then points at.
    /// </summary>
    private int Int8Chunks(string name, ref DevicePointer matrix, int rows, int columns)
    {
        if (columns % 16 == 0 && matrix.Address % 16 == 0)
            return columns;
        var ld = (columns + 15) / 16 * 16;
        var padded = Scratch(name, DType.Int8, (long)rows * ld);
        Kernel("ternary_gemm", "ternary_gemm_pad_rows").Launch(KernelLaunch.Elementwise((long)rows * ld, Device), Stream, matrix, rows, columns, ld, padded.Pointer);
        matrix = padded.Pointer;
        return ld;
    }
}
