using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void LayerNorm(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor mean, Tensor reciprocalStd, float epsilon)
    {
        var (x, w, b, y) = (Float32(input, nameof(input)), Float32(weight, nameof(weight)), Float32(bias, nameof(bias)), Float32(output, nameof(output)));
        var (mu, rstd) = (Float32(mean, nameof(mean)), Float32(reciprocalStd, nameof(reciprocalStd)));
        var (rows, width) = OpShapes.LayerNorm(input, weight, bias, output, mean, reciprocalStd);
        CpuParallel.ForRows(rows, 8L * width, (start, count) =>
            Ops.LayerNorm.Forward(x.Span<float>().Slice(start * width, count * width), w.Span<float>(), b.Span<float>(),
                y.Span<float>().Slice(start * width, count * width), mu.Span<float>().Slice(start, count), rstd.Span<float>().Slice(start, count), epsilon));
    }

    /// <inheritdoc />
    public void LayerNormBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor mean, Tensor reciprocalStd,
        Tensor inputGradient, Tensor weightGradient, Tensor biasGradient)
    {
        var (dy, x, w) = (Float32(outputGradient, nameof(outputGradient)), Float32(input, nameof(input)), Float32(weight, nameof(weight)));
        var (mu, rstd) = (Float32(mean, nameof(mean)), Float32(reciprocalStd, nameof(reciprocalStd)));
        var dx = Float32(inputGradient, nameof(inputGradient));
        var (rows, width) = OpShapes.LayerNormBackward(outputGradient, input, weight, mean, reciprocalStd, inputGradient, weightGradient, biasGradient);
        CpuParallel.ForRows(rows, 10L * width, (start, count) =>
            Ops.LayerNorm.BackwardInput(dy.Span<float>().Slice(start * width, count * width), x.Span<float>().Slice(start * width, count * width),
                w.Span<float>(), mu.Span<float>().Slice(start, count), rstd.Span<float>().Slice(start, count),
                dx.Span<float>().Slice(start * width, count * width), new float[width]));
        Ops.LayerNorm.BackwardParameters(dy.Span<float>(), x.Span<float>(), mu.Span<float>(), rstd.Span<float>(),
            Floats(weightGradient, nameof(weightGradient)), Floats(biasGradient, nameof(biasGradient)), new float[width]);
    }
}
