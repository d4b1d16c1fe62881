using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings)
    {
        var (p, g) = (Float32(parameter, nameof(parameter)), Float32(gradient, nameof(gradient)));
        var (m, v) = (Float32(firstMoment, nameof(firstMoment)), Float32(secondMoment, nameof(secondMoment)));
        OpShapes.AdamW(parameter, gradient, firstMoment, secondMoment, settings);
        CpuParallel.ForChunks(parameter.ElementCount, (start, length) =>
            Ops.AdamW.Update(p.Span<float>().Slice(start, length), g.Span<float>().Slice(start, length),
                m.Span<float>().Slice(start, length), v.Span<float>().Slice(start, length), settings));
    }

    /// <inheritdoc />
    public double SumOfSquares(Tensor tensor) => Ops.AdamW.SumOfSquares(Floats(tensor, nameof(tensor)));
}
