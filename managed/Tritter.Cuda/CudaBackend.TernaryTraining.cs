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
        var k = columns;
        if (columns % 16 != 0 || x.Address % 16 != 0)
        {
            k = (columns + 15) / 16 * 16;
            var padded = Scratch("ternary_gemm_input", DType.Int8, (long)rows * k);
            Kernel("ternary_gemm", "ternary_gemm_pad_rows").Launch(KernelLaunch.Elementwise((long)rows * k, Device), Stream, x, rows, columns, k, padded.Pointer);
            x = padded.Pointer;
        }
        var (kernel, geometry) = KernelLaunch.TernaryGemm(rows, outputs, Device);
        Kernel("ternary_gemm", kernel, geometry.SharedMemoryBytes).Launch(geometry, Stream,
            x, rowScale, layout, scale, perRowScale ? 1 : 0, bias, output, rows, k, outputs);
    }
}
