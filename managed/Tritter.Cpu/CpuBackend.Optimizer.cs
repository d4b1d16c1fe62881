using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings)
    {
        var (p, g) = (Float32(parameter, nameof(parameter)), Float32(gradient, nameof(gradient)));
        var momentType = OpShapes.AdamW(parameter, gradient, firstMoment, secondMoment, settings);
        var (m, v) = (Typed(firstMoment, momentType, nameof(firstMoment)), Typed(secondMoment, momentType, nameof(secondMoment)));
        CpuParallel.ForChunks(parameter.ElementCount, (start, length) =>
        {
            var ps = p.Span<float>().Slice(start, length);
            var gs = g.Span<float>().Slice(start, length);
            if (momentType == DType.BFloat16)
                Ops.AdamW.Update(ps, gs, m.Span<ushort>().Slice(start, length), v.Span<ushort>().Slice(start, length), settings);
            else
                Ops.AdamW.Update(ps, gs, m.Span<float>().Slice(start, length), v.Span<float>().Slice(start, length), settings);
        });
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
