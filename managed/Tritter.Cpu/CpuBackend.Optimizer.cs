using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWSettings settings)
    {
        var momentType = OpShapes.AdamW(parameters, settings);
        foreach (var (parameter, gradient, firstMoment, secondMoment, decays) in parameters)
        {
            var (p, g) = (Float32(parameter, nameof(parameters)), Float32(gradient, nameof(parameters)));
            var (m, v) = (Typed(firstMoment, momentType, nameof(parameters)), Typed(secondMoment, momentType, nameof(parameters)));
            var own = decays ? settings : settings with { WeightDecay = 0 };
            CpuParallel.ForChunks(parameter.ElementCount, (start, length) =>
            {
                var ps = p.Span<float>().Slice(start, length);
                var gs = g.Span<float>().Slice(start, length);
                if (momentType == DType.BFloat16)
                    Ops.AdamW.Update(ps, gs, m.Span<ushort>().Slice(start, length), v.Span<ushort>().Slice(start, length), own);
                else
                    Ops.AdamW.Update(ps, gs, m.Span<float>().Slice(start, length), v.Span<float>().Slice(start, length), own);
            });
        }
    }

    /// <inheritdoc />
    public double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        var total = 0.0;
        foreach (var tensor in tensors)
            total += Ops.AdamW.SumOfSquares(Floats(tensor, nameof(tensors)));
        return total;
    }
}
