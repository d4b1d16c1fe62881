using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Dense linear-layer products on tensor cores with fp32 accumulation, at <see cref="MatmulPrecision"/>: TF32
/// (<c>kernels/matmul.cu</c>) or bf16 copies of the operands (<c>kernels/matmul_bf16.cu</c>; on wgmma where the device
/// has it, <c>kernels/matmul_bf16_sm90a.cu</c>).
/// </summary>
public sealed partial class CudaBackend : IMatmulOps
{
    private readonly HashSet<string> _matmulSharedOptIn = new(StringComparer.Ordinal);

    /// <summary>
    /// What the dense products and the training attention round their operands to: TF32 by default; bf16 for twice the
    /// rate where its 4x coarser operands are acceptable (<c>tritter train --matmul-precision bf16</c>). Set it between ops, not during a
    /// recorded step.
    /// </summary>
    public MatmulPrecision MatmulPrecision { get; set; } = MatmulPrecision.Tf32;

    private const string WgmmaModule = "matmul_bf16_sm90a";

    /// <summary>Whether this device runs Hopper's warpgroup MMA (<c>kernels/*_sm90a.cu</c>): compute capability 9.0 alone.</summary>
    public bool WgmmaAvailable => EmbeddedKernels.RunsOn(WgmmaModule, Device.ComputeCapability);

    /// <summary>
    /// Whether bf16 products (<c>matmul_*_bf16_wgmma</c>, all but the split-k input gradient) and the int8-code ternary
    /// product (<c>ternary_gemm_i8_wgmma</c>, <see cref="TernaryInt8Matmul"/>) run on wgmma rather than mma.sync; only
    /// where <see cref="WgmmaAvailable"/>. Off by default until the kernels have been measured correct
    /// and faster on an H100 (<c>bench/results/</c>); the GPU tests run both.
    /// </summary>
    public bool UseWgmma
    {
        get => _useWgmma;
        set
        {
            if (value && !WgmmaAvailable)
                throw new NotSupportedException($"{Device.Name} (compute capability {Device.ComputeCapability.Major}.{Device.ComputeCapability.Minor}) has no wgmma: it needs 9.0");
            _useWgmma = value;
        }
    }

    private bool _useWgmma;

    /// <inheritdoc />
    public DType WeightType(int inFeatures) =>
        MatmulPrecision == MatmulPrecision.BFloat16 && inFeatures == KernelLaunch.Bf16Leading(inFeatures) ? DType.BFloat16 : DType.Float32;

    /// <inheritdoc />
    public void ConvertOperand(Tensor source, Tensor destination)
    {
        var from = Float32(source, nameof(source));
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        if (destination.Type != DType.BFloat16)
        {
            Copy(source, Float32(destination, nameof(destination)));
            return;
        }
        var last = destination.Shape.Rank == 0 ? 1 : destination.Shape[destination.Shape.Rank - 1];
        if (last != KernelLaunch.Bf16Leading(last))
            throw new ArgumentException($"a bf16 operand's rows must be whole 8-element chunks; the last dimension is {last}", nameof(destination));
        // Rows of everything after the first dimension: with nothing to pad, how the elements split into rows only sets
        // the grid, and short rows (attention's heads of 128) would leave most of each block idle.
        var rows = destination.Shape.Rank <= 1 ? 1 : destination.Shape[0];
        var columns = checked((int)(destination.ElementCount / rows));
        MakeCurrent();
        Kernel("matmul_bf16", "matmul_to_bf16").Launch(KernelLaunch.ToBf16(rows, columns), Stream, from.Pointer, Own(destination).Pointer, rows, columns, columns);
    }

    /// <inheritdoc />
    public void Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output, Tensor? residual = null)
    {
        var y = Float32(output, nameof(output));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var r = residual is null ? null : Float32(residual, nameof(residual));
        var (rows, inFeatures, outFeatures) = OpShapes.Matmul(input, weight, bias, output, residual);
        var (x, w) = (MatmulOperand(input, inFeatures, nameof(input)), MatmulOperand(weight, inFeatures, nameof(weight)));
        if (rows == 0 || outFeatures == 0)
            return;
        MakeCurrent();
        if (MatmulPrecision == MatmulPrecision.BFloat16)
        {
            var ldIn = KernelLaunch.Bf16Leading(inFeatures);
            var (xs, ws) = (ToBf16("matmul_bf16_x", x, rows, inFeatures), ToBf16("matmul_bf16_w", w, outFeatures, inFeatures));
            var (module, kernel, sharedBytes, geometry) = Bf16Product(r is null ? "matmul_forward_bf16" : "matmul_forward_residual_bf16", rows, outFeatures);
            var forward = MatmulKernel(module, kernel, sharedBytes);
            if (r is null)
                forward.Launch(geometry, Stream, xs.Pointer, ws.Pointer, b is null ? default : b.Pointer, y.Pointer, rows, inFeatures, outFeatures, ldIn);
            else
                forward.Launch(geometry, Stream, xs.Pointer, ws.Pointer, b is null ? default : b.Pointer, r.Pointer, y.Pointer, rows, inFeatures, outFeatures, ldIn);
            return;
        }
        var shared = KernelLaunch.MatmulSharedBytes(aKContiguous: true, bKContiguous: true);
        var tf32 = MatmulKernel("matmul", r is null ? "matmul_forward_f32" : "matmul_forward_residual_f32", shared);
        if (r is null)
            tf32.Launch(KernelLaunch.Matmul(rows, outFeatures, shared), Stream, x.Pointer, w.Pointer, b is null ? default : b.Pointer, y.Pointer, rows, inFeatures,
                outFeatures);
        else
            tf32.Launch(KernelLaunch.Matmul(rows, outFeatures, shared), Stream, x.Pointer, w.Pointer, b is null ? default : b.Pointer, r.Pointer, y.Pointer, rows,
                inFeatures, outFeatures);
    }

    /// <inheritdoc />
    public void MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient,
        bool overwriteWeightGradient = false, bool accumulateInputGradient = false)
    {
        var dy = Float32(outputGradient, nameof(outputGradient));
        var dw = Float32(weightGradient, nameof(weightGradient));
        var dx = inputGradient is null ? null : Float32(inputGradient, nameof(inputGradient));
        var db = biasGradient is null ? null : Float32(biasGradient, nameof(biasGradient));
        var (rows, inFeatures, outFeatures) = OpShapes.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient);
        var (x, w) = (MatmulOperand(input, inFeatures, nameof(input)), MatmulOperand(weight, inFeatures, nameof(weight)));
        if (rows == 0)
            return;
        MakeCurrent();
        // The kernels that overwrite dW are named *_set_*.
        var weightKernel = overwriteWeightGradient ? "matmul_weight_gradient_set" : "matmul_weight_gradient";
        if (MatmulPrecision == MatmulPrecision.BFloat16)
            MatmulBackwardBf16(dy, x, w, dx, dw, accumulateInputGradient, weightKernel + "_bf16", rows, inFeatures, outFeatures);
        else
            MatmulBackwardTf32(dy, x, w, dx, dw, accumulateInputGradient, weightKernel + "_f32", rows, inFeatures, outFeatures);
        if (db is null || outFeatures == 0)
            return;
        var (geometry, rowsPerChunk, chunks) = KernelLaunch.ColumnPartials(rows, outFeatures);
        var partials = Scratch("matmul_bias_partials", DType.Float32, (long)chunks * outFeatures);
        Kernel("matmul", "matmul_column_partials_f32").Launch(geometry, Stream, dy.Pointer, partials.Pointer, rows, outFeatures, rowsPerChunk);
        Kernel("matmul", "matmul_column_sum_f32").Launch(KernelLaunch.ColumnSums(outFeatures), Stream, partials.Pointer, chunks, outFeatures, db.Pointer);
    }

    private void MatmulBackwardTf32(CudaTensor dy, CudaTensor x, CudaTensor w, CudaTensor? dx, CudaTensor dw, bool accumulateInputGradient, string weightKernel,
        int rows, int inFeatures, int outFeatures)
    {
        if (dx is not null && inFeatures > 0)
        {
            var shared = KernelLaunch.MatmulSharedBytes(aKContiguous: true, bKContiguous: false);
            MatmulKernel("matmul", accumulateInputGradient ? "matmul_input_gradient_add_f32" : "matmul_input_gradient_f32", shared).Launch(KernelLaunch.Matmul(rows, inFeatures, shared), Stream,
                dy.Pointer, w.Pointer, dx.Pointer, rows, inFeatures, outFeatures);
        }
        if (outFeatures == 0 || inFeatures == 0)
            return;
        var weightShared = KernelLaunch.MatmulSharedBytes(aKContiguous: false, bKContiguous: false);
        MatmulKernel("matmul", weightKernel, weightShared).Launch(KernelLaunch.Matmul(outFeatures, inFeatures, weightShared), Stream,
            dy.Pointer, x.Pointer, dw.Pointer, rows, inFeatures, outFeatures);
    }

    private void MatmulBackwardBf16(CudaTensor dy, CudaTensor x, CudaTensor w, CudaTensor? dx, CudaTensor dw, bool accumulateInputGradient, string weightKernel,
        int rows, int inFeatures, int outFeatures)
    {
        if (inFeatures == 0)
            return;
        var (ldIn, ldOut) = (KernelLaunch.Bf16Leading(inFeatures), KernelLaunch.Bf16Leading(outFeatures));
        var dys = ToBf16("matmul_bf16_dy", dy, rows, outFeatures);
        if (dx is not null)
            InputGradientBf16(dys, ToBf16("matmul_bf16_w", w, outFeatures, inFeatures), dx, accumulateInputGradient, rows, inFeatures, outFeatures);
        if (outFeatures == 0)
            return;
        var xs = ToBf16("matmul_bf16_x", x, rows, inFeatures);
        var (module, kernel, sharedBytes, geometry) = Bf16Product(weightKernel, outFeatures, inFeatures);
        MatmulKernel(module, kernel, sharedBytes).Launch(geometry, Stream, dys.Pointer, xs.Pointer, dw.Pointer, rows, inFeatures, outFeatures, ldOut, ldIn);
    }

    /// <summary>
    /// <c>dx (+)= dy w</c> on bf16 copies; where the output's tiles are too few to fill the device and the product's k
    /// (the output features) is long, as in the output head's chunks, over ranges of k into partial outputs that one
    /// more pass adds up in a fixed order.
    /// </summary>
    private void InputGradientBf16(CudaTensor dys, CudaTensor ws, CudaTensor dx, bool accumulate, int rows, int inFeatures, int outFeatures)
    {
        var (ldIn, ldOut) = (KernelLaunch.Bf16Leading(inFeatures), KernelLaunch.Bf16Leading(outFeatures));
        var (splits, splitTiles) = KernelLaunch.MatmulBf16KSplits(rows, inFeatures, outFeatures, Device.MultiprocessorCount);
        if (splits == 1)
        {
            var (module, kernel, sharedBytes, geometry) = Bf16Product(accumulate ? "matmul_input_gradient_add_bf16" : "matmul_input_gradient_bf16", rows, inFeatures);
            MatmulKernel(module, kernel, sharedBytes).Launch(geometry, Stream, dys.Pointer, ws.Pointer, dx.Pointer, rows, inFeatures, outFeatures, ldOut, ldIn);
            return;
        }
        var count = (long)rows * inFeatures;
        var partials = Scratch("matmul_bf16_split_partials", DType.Float32, splits * count);
        MatmulKernel("matmul_bf16", "matmul_input_gradient_split_bf16", KernelLaunch.MatmulBf16SharedBytes).Launch(KernelLaunch.MatmulBf16(rows, inFeatures, splits), Stream,
            dys.Pointer, ws.Pointer, partials.Pointer, rows, inFeatures, outFeatures, ldOut, ldIn, splitTiles);
        Kernel("matmul_bf16", "matmul_split_sum_f32").Launch(KernelLaunch.Elementwise(count, Device), Stream,
            partials.Pointer, splits, count, dx.Pointer, accumulate ? 1 : 0);
    }

    /// <summary>
    /// The launch of the bf16 product <paramref name="kernel"/> (a <c>matmul_bf16.cu</c> name) over an
    /// <paramref name="m"/> x <paramref name="n"/> output: its wgmma twin (same arguments) where <see cref="UseWgmma"/>.
    /// </summary>
    private (string Module, string Kernel, uint SharedBytes, LaunchGeometry Geometry) Bf16Product(string kernel, int m, int n) => UseWgmma
        ? (WgmmaModule, kernel + "_wgmma", KernelLaunch.MatmulWgmmaSharedBytes, KernelLaunch.MatmulWgmma(m, n))
        : ("matmul_bf16", kernel, KernelLaunch.MatmulBf16SharedBytes, KernelLaunch.MatmulBf16(m, n));

    /// <summary>A weight or input of a product: float32, or bf16 where <see cref="WeightType"/> names it.</summary>
    private CudaTensor MatmulOperand(Tensor operand, int inFeatures, string name)
    {
        if (operand.Type == DType.BFloat16 && WeightType(inFeatures) != DType.BFloat16)
            throw new ArgumentException($"a bf16 operand of {inFeatures} input features needs bf16 products ({MatmulPrecision} now) and a multiple of 8 features",
                name);
        return operand.Type == DType.BFloat16 ? Own(operand) : Float32(operand, name);
    }

    /// <summary>
    /// A bf16 copy of the float32 matrix <paramref name="source"/> <c>[rows, columns]</c> in the scratch buffer
    /// <paramref name="name"/>, its rows padded with zeros to <see cref="KernelLaunch.Bf16Leading"/>; a bf16 source
    /// (whose rows need no padding, <see cref="WeightType"/>) is used as it is.
    /// </summary>
    private CudaTensor ToBf16(string name, CudaTensor source, int rows, int columns)
    {
        if (source.Type == DType.BFloat16)
            return source;
        var ld = KernelLaunch.Bf16Leading(columns);
        var copy = Scratch(name, DType.BFloat16, Math.Max(1, (long)rows * ld));
        if (ld > 0)
            Kernel("matmul_bf16", "matmul_to_bf16").Launch(KernelLaunch.ToBf16(rows, ld), Stream, source.Pointer, copy.Pointer, rows, columns, ld);
        return copy;
    }

    /// <summary>A GEMM kernel, allowed the dynamic shared memory its launches ask for (above 48 KiB needs an opt-in).</summary>
    private CudaFunction MatmulKernel(string module, string name, uint sharedBytes)
    {
        var function = Kernel(module, name);
        if (sharedBytes > Device.MaxSharedMemoryPerBlockOptIn - function.StaticSharedBytes)
            throw new NotSupportedException($"{name} needs {sharedBytes} B of shared memory per block; {Device.Name} allows {Device.MaxSharedMemoryPerBlockOptIn}");
        if (_matmulSharedOptIn.Add(name))
            function.SetMaxDynamicSharedMemory((int)sharedBytes);
        return function;
    }
}
