using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cuda;

/// <summary>LayerNorm: <c>kernels/layernorm.cu</c>.</summary>
public sealed partial class CudaBackend : INormOps
{
    /// <inheritdoc />
    public void LayerNorm(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor mean, Tensor reciprocalStd, float epsilon)
    {
        var (x, w, b, y) = (Float32(input, nameof(input)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        var (mu, rstd) = (Float32(mean, nameof(mean)), Float32(reciprocalStd, nameof(reciprocalStd)));
        var (rows, width) = OpShapes.LayerNorm(input, weight, bias, output, mean, reciprocalStd);
        if (rows == 0)
            return;
        MakeCurrent();
        if (width >= KernelLaunch.BlockNormMinWidth)
            Kernel("layernorm", "layernorm_forward_rows_f32").Launch(KernelLaunch.NormRowBlocks(rows, width), Stream,
                x.Pointer, w.Pointer, b.Pointer, y.Pointer, mu.Pointer, rstd.Pointer, width, epsilon);
        else
            Kernel("layernorm", "layernorm_forward_f32").Launch(KernelLaunch.WarpPerRow(rows), Stream,
                x.Pointer, w.Pointer, b.Pointer, y.Pointer, mu.Pointer, rstd.Pointer, rows, width, epsilon);
    }

    /// <inheritdoc />
    public void LayerNormBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor mean, Tensor reciprocalStd,
        Tensor inputGradient, Tensor weightGradient, Tensor biasGradient)
    {
        var (dy, x, w) = (Float32(outputGradient, nameof(outputGradient)), Float32(input, nameof(input)), Float32(weight, nameof(weight)));
        var (mu, rstd) = (Float32(mean, nameof(mean)), Float32(reciprocalStd, nameof(reciprocalStd)));
        var dx = Float32(inputGradient, nameof(inputGradient));
        var (dw, db) = (Float32(weightGradient, nameof(weightGradient)), Float32(biasGradient, nameof(biasGradient)));
        var (rows, width) = OpShapes.LayerNormBackward(outputGradient, input, weight, mean, reciprocalStd, inputGradient, weightGradient, biasGradient);
        if (rows == 0)
            return;
        var (geometry, rowsPerChunk, chunks) = KernelLaunch.ColumnPartials(rows, width);
        var partials = Scratch("layernorm_partials", DType.Float32, 2L * chunks * width);
        MakeCurrent();
        Kernel("layernorm", "layernorm_backward_input_f32").Launch(KernelLaunch.WarpPerRow(rows), Stream,
            dy.Pointer, x.Pointer, w.Pointer, mu.Pointer, rstd.Pointer, dx.Pointer, rows, width);
        Kernel("layernorm", "layernorm_param_partials_f32").Launch(geometry, Stream,
            dy.Pointer, x.Pointer, mu.Pointer, rstd.Pointer, partials.Pointer, rows, width, rowsPerChunk);
        Kernel("layernorm", "layernorm_param_sum_f32").Launch(KernelLaunch.ColumnSums(width), Stream,
            partials.Pointer, chunks, width, dw.Pointer, db.Pointer);
    }
}
