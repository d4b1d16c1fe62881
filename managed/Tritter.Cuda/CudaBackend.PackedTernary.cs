using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Cuda;

/// <summary>
/// Packed ternary matmul on weights in the canonical packing: <c>kernels/ternary_gemv.cu</c>. Each call converts the
/// weights to the GEMV kernels' layout on the device (<c>ternary_pack_gpu</c>, into a reused scratch buffer) and runs
/// the GEMV passes. Converting per call, not caching, because a <see cref="Tensor"/> carries no version: a cache keyed
/// on the tensor would serve stale weights after the owner rewrote them (re-packing once per optimizer step), and the
/// conversion reads the packed bytes once more and writes them once, about doubling the traffic of an M = 1 GEMV.
/// Weights that stay fixed take the cached path instead: <see cref="UploadTernary"/> and <see cref="TernaryMatmul"/>.
/// </summary>
public sealed partial class CudaBackend : IPackedTernaryOps
{
    /// <inheritdoc />
    public void PackedTernaryMatmul(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (x, s, y) = (Float32(input, nameof(input)), Float32(scale, nameof(scale)), Float32(output, nameof(output)));
        var b = bias is null ? default : Float32(bias, nameof(bias)).Pointer;
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryMatmul(input, packedWeight, scale, bias, output);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var wordsPerRow = CudaTernaryMatrix.GpuWordsPerRow(columns);
        var packed = Scratch("packed_ternary_gpu", DType.Int32, (long)outputs * wordsPerRow);
        Kernel("ternary_gemv", "ternary_pack_gpu").Launch(KernelLaunch.Elementwise((long)outputs * wordsPerRow, Device), Stream,
            Own(packedWeight).Pointer, TernaryPacking.WordsPerRow(columns), packed.Pointer, wordsPerRow, outputs, columns);
        var scales = s.Pointer;
        if (scale.ElementCount != outputs)
        {
            var perFeature = Scratch("packed_ternary_scales", DType.Float32, outputs);
            Kernel("ternary_gemv", "ternary_broadcast_scale").Launch(KernelLaunch.Elementwise(outputs, Device), Stream, s.Pointer, perFeature.Pointer, outputs);
            scales = perFeature.Pointer;
        }
        TernaryGemv(packed.Pointer, outputs, columns, scales, b, x, y, rows, scheme == TernaryScheme.Paper);
    }
}
