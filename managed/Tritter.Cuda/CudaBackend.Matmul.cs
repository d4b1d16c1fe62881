using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>Dense linear-layer products on tensor cores (TF32, fp32 accumulation): <c>kernels/matmul.cu</c>.</summary>
public sealed partial class CudaBackend : IMatmulOps
{
    private readonly HashSet<string> _matmulSharedOptIn = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        var (x, w, y) = (Float32(input, nameof(input)), Float32(weight, nameof(weight)), Float32(output, nameof(output)));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var (rows, inFeatures, outFeatures) = OpShapes.Matmul(input, weight, bias, output);
        if (rows == 0 || outFeatures == 0)
            return;
        var shared = KernelLaunch.MatmulSharedBytes(aKContiguous: true, bKContiguous: true);
        MakeCurrent();
        MatmulKernel("matmul_forward_f32", shared).Launch(KernelLaunch.Matmul(rows, outFeatures, shared), Stream,
            x.Pointer, w.Pointer, b is null ? default : b.Pointer, y.Pointer, rows, inFeatures, outFeatures);
    }

    /// <inheritdoc />
    public void MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient)
    {
        var (dy, x, w) = (Float32(outputGradient, nameof(outputGradient)), Float32(input, nameof(input)), Float32(weight, nameof(weight)));
        var dw = Float32(weightGradient, nameof(weightGradient));
        var dx = inputGradient is null ? null : Float32(inputGradient, nameof(inputGradient));
        var db = biasGradient is null ? null : Float32(biasGradient, nameof(biasGradient));
        var (rows, inFeatures, outFeatures) = OpShapes.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient);
        if (rows == 0)
            return;
        MakeCurrent();
        if (dx is not null && inFeatures > 0)
        {
            var shared = KernelLaunch.MatmulSharedBytes(aKContiguous: true, bKContiguous: false);
            MatmulKernel("matmul_input_gradient_f32", shared).Launch(KernelLaunch.Matmul(rows, inFeatures, shared), Stream,
                dy.Pointer, w.Pointer, dx.Pointer, rows, inFeatures, outFeatures);
        }
        if (outFeatures == 0)
            return;
        if (inFeatures > 0)
        {
            var shared = KernelLaunch.MatmulSharedBytes(aKContiguous: false, bKContiguous: false);
            MatmulKernel("matmul_weight_gradient_f32", shared).Launch(KernelLaunch.Matmul(outFeatures, inFeatures, shared), Stream,
                dy.Pointer, x.Pointer, dw.Pointer, rows, inFeatures, outFeatures);
        }
        if (db is null)
            return;
        var (geometry, rowsPerChunk, chunks) = KernelLaunch.ColumnPartials(rows, outFeatures);
        var partials = Scratch("matmul_bias_partials", DType.Float32, (long)chunks * outFeatures);
        Kernel("matmul", "matmul_column_partials_f32").Launch(geometry, Stream, dy.Pointer, partials.Pointer, rows, outFeatures, rowsPerChunk);
        Kernel("matmul", "matmul_column_sum_f32").Launch(KernelLaunch.Columns(outFeatures), Stream, partials.Pointer, chunks, outFeatures, db.Pointer);
    }

    /// <summary>A GEMM kernel, allowed the dynamic shared memory its launches ask for (above 48 KiB needs an opt-in).</summary>
    private CudaFunction MatmulKernel(string name, uint sharedBytes)
    {
        var function = Kernel("matmul", name);
        if (sharedBytes > Device.MaxSharedMemoryPerBlockOptIn - function.StaticSharedBytes)
            throw new NotSupportedException($"{name} needs {sharedBytes} B of shared memory per block; {Device.Name} allows {Device.MaxSharedMemoryPerBlockOptIn}");
        if (_matmulSharedOptIn.Add(name))
            function.SetMaxDynamicSharedMemory((int)sharedBytes);
        return function;
    }
}
