using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>AdamW and the sum of squares for gradient clipping: <c>kernels/adamw.cu</c>.</summary>
public sealed partial class CudaBackend : IOptimizerOps
{
    /// <inheritdoc />
    public void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings)
    {
        var (p, g) = (Float32(parameter, nameof(parameter)), Float32(gradient, nameof(gradient)));
        var momentType = OpShapes.AdamW(parameter, gradient, firstMoment, secondMoment, settings);
        var (m, v) = (Own(firstMoment), Own(secondMoment));
        // The per-step scalars in float32 exactly as the CPU twin computes them, so both sides apply the same factors.
        var firstCorrection = 1 / (1 - MathF.Pow(settings.Beta1, settings.Step));
        var secondCorrection = 1 / (1 - MathF.Pow(settings.Beta2, settings.Step));
        var decay = 1 - settings.LearningRate * settings.WeightDecay;
        MakeCurrent();
        Kernel("adamw", momentType == DType.BFloat16 ? "adamw_bf16_moments" : "adamw_f32").Launch(KernelLaunch.Elementwise(parameter.ElementCount, Device), Stream,
            p.Pointer, g.Pointer, m.Pointer, v.Pointer, parameter.ElementCount, settings.LearningRate, settings.Beta1,
            settings.Beta2, settings.Epsilon, decay, firstCorrection, secondCorrection, settings.GradientScale);
    }

    /// <inheritdoc />
    public double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        var geometries = tensors.Select(t => KernelLaunch.Elementwise(t.ElementCount, Device)).ToArray();
        var blocks = geometries.Sum(g => (int)g.Grid.X);
        var partials = Scratch("sumsq_partials", DType.UInt8, Math.Max(1, (long)blocks * sizeof(double)));
        MakeCurrent();
        var at = partials.Pointer.Address;
        for (var i = 0; i < tensors.Count; i++)
        {
            var x = Float32(tensors[i], nameof(tensors));
            Kernel("adamw", "sum_squares_f32").Launch(geometries[i], Stream, x.Pointer, x.ElementCount, new DevicePointer(at));
            at += geometries[i].Grid.X * sizeof(double);
        }
        var host = new double[blocks];
        ReadScratch(partials, host.AsSpan());
        // Tensor by tensor in block order, on the host: the same partials always add up to the same total.
        var total = 0.0;
        foreach (var partial in host)
            total += partial;
        return total;
    }
}
