using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Cuda;

/// <summary>
/// Training on packed ternary weights: packing and the input gradient (<c>kernels/ternary_train.cu</c>), the W1.58A8
/// forward product (<c>kernels/ternary_gemm.cu</c>).
/// </summary>
public sealed partial class CudaBackend : IPackedTernaryTrainingOps
{
    /// <inheritdoc />
    public void PackTernaryRows(Tensor weight, Tensor packedWeight)
    {
        var w = Float32(weight, nameof(weight));
        var (rows, columns) = TernaryShapes.PackTernaryRows(weight, packedWeight);
        if (rows == 0 || columns == 0)
            return;
        MakeCurrent();
        Kernel("ternary_train", "ternary_pack_rows_f32").Launch(KernelLaunch.BlockPerRow(rows), Stream,
            w.Pointer, columns, TernaryPacking.WordsPerRow(columns), Own(packedWeight).Pointer);
    }

    /// <inheritdoc />
    public void PackedTernaryMatmulBackward(Tensor outputGradient, Tensor packedWeight, Tensor scale, Tensor inputGradient)
    {
        var (dy, s, dx) = (Float32(outputGradient, nameof(outputGradient)), Float32(scale, nameof(scale)), Float32(inputGradient, nameof(inputGradient)));
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryMatmulBackward(outputGradient, packedWeight, scale, inputGradient);
        if (rows == 0 || columns == 0)
            return;
        MakeCurrent();
        Kernel("ternary_train", "ternary_packed_input_gradient_f32").Launch(KernelLaunch.PackedInputGradient(rows, columns), Stream,
            dy.Pointer, Own(packedWeight).Pointer, TernaryPacking.WordsPerRow(columns), s.Pointer, scale.ElementCount == outputs ? 1 : 0,
            dx.Pointer, rows, columns, outputs);
    }

    /// <inheritdoc />
    public void PackedTernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor packedWeight, Tensor scale, Tensor? bias, Tensor output)
    {
        var (rs, s, y) = (Float32(rowScale, nameof(rowScale)), Float32(scale, nameof(scale)), Float32(output, nameof(output)));
        var b = bias is null ? default : Float32(bias, nameof(bias)).Pointer;
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryInt8Matmul(quantizedInput, rowScale, packedWeight, scale, bias, output);
        if (rows == 0 || outputs == 0)
            return;
        MakeCurrent();
        var tiles = KernelLaunch.TernaryGemmTiles(columns);
        var layout = Scratch("ternary_gemm_layout", DType.Int32, (long)outputs * tiles * 8);
        Kernel("ternary_gemm", "ternary_gemm_layout").Launch(KernelLaunch.Elementwise((long)outputs * tiles, Device), Stream,
            Own(packedWeight).Pointer, TernaryPacking.WordsPerRow(columns), outputs, tiles, layout.Pointer);
        TernaryGemm(Own(quantizedInput).Pointer, rs.Pointer, layout.Pointer, s.Pointer, scale.ElementCount == outputs, b, y.Pointer, rows, columns, outputs);
    }
}
