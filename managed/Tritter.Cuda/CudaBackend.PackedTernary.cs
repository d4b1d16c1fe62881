using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Packed ternary matmul on weights in the canonical packing: <c>kernels/ternary_gemv.cu</c>. Each call converts the
/// weights to the GEMV kernels' layout on the device (<c>ternary_pack_gpu</c>, into a reused scratch buffer) and runs
/// the GEMV passes. Converting per call, not caching, because a <see cref="Tensor"/> carries no version: a cache keyed
/// on the tensor would serve stale weights after the owner rewrote them (re-packing once per optimizer step), and the
/// conversion reads the packed bytes once more and writes them once, about doubling the traffic of an M = 1 GEMV.
/// Weights that stay fixed are converted once instead: <see cref="ArrangePackedTernary"/> (generation's weight blocks)
/// or <see cref="UploadTernary"/>.
/// </summary>
public sealed partial class CudaBackend : IPackedTernaryOps
{
    /// <inheritdoc />
    public void PackedTernaryMatmul(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryMatmul(input, packedWeight, scale, bias, output);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var packed = Scratch("packed_ternary_gpu", DType.Int32, (long)outputs * CudaTernaryMatrix.GpuWordsPerRow(columns));
        ConvertToGemvLayout(Own(packedWeight).Pointer, packed.Pointer, outputs, columns);
        Gemv(input, packed.Pointer, scale, bias, scheme, output, rows, columns, outputs);
    }

    /// <summary>
    /// The GEMV layout has as many words per row as the canonical one (both pad rows to 64 weights), so the words are
    /// converted on the device by the same kernel <see cref="PackedTernaryMatmul"/> runs, once, and brought back; both
    /// schemes read that layout.
    /// </summary>
    public void ArrangePackedTernary(Span<uint> words, int rows, int columns, TernaryScheme scheme)
    {
        var count = checked(rows * TernaryPacking.WordsPerRow(columns));
        if (words.Length != count || CudaTernaryMatrix.GpuWordsPerRow(columns) != TernaryPacking.WordsPerRow(columns))
            throw new ArgumentException($"{words.Length} words are not {rows} packed rows of {columns} weights", nameof(words));
        if (count == 0)
            return;
        using var canonical = Allocate(DType.Int32, [count]);
        using var arranged = Allocate(DType.Int32, [count]);
        Upload<uint>(canonical, words);
        MakeCurrent();
        ConvertToGemvLayout(Own(canonical).Pointer, Own(arranged).Pointer, rows, columns);
        Download<uint>(arranged, words);
    }

    /// <inheritdoc />
    public void ArrangedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryMatmul(input, arrangedWeight, scale, bias, output);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        Gemv(input, Own(arrangedWeight).Pointer, scale, bias, scheme, output, rows, columns, outputs);
    }

    private void ConvertToGemvLayout(DevicePointer canonical, DevicePointer arranged, int outputs, int columns)
    {
        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(columns);
        Kernel("ternary_gemv", "ternary_pack_gpu").Launch(KernelLaunch.Elementwise((long)outputs * wordsPerRow, Device), Stream,
            canonical, TernaryPacking.WordsPerRow(columns), arranged, wordsPerRow, outputs, columns);
    }

    private void Gemv(Tensor input, DevicePointer arranged, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output, int rows, int columns, int outputs)
    {
        var (x, y) = (Float32(input, nameof(input)), Float32(output, nameof(output)));
        TernaryGemv(arranged, outputs, columns, PerFeatureScales(scale, outputs), BiasPointer(bias), x.Pointer, y.Pointer, rows, scheme == TernaryScheme.Paper);
    }

    private static DevicePointer BiasPointer(Tensor? bias) => bias is null ? default : Float32(bias, nameof(bias)).Pointer;

    /// <summary>The scales the GEMV kernels read, one per feature: <paramref name="scale"/>, or its one per-tensor scale spread out.</summary>
    private DevicePointer PerFeatureScales(Tensor scale, int outputs)
    {
        var s = Float32(scale, nameof(scale));
        if (scale.ElementCount == outputs)
            return s.Pointer;
        var perFeature = Scratch("packed_ternary_scales", DType.Float32, outputs);
        Kernel("ternary_gemv", "ternary_broadcast_scale").Launch(KernelLaunch.Elementwise(outputs, Device), Stream, s.Pointer, perFeature.Pointer, outputs);
        return perFeature.Pointer;
    }
}
