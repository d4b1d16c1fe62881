using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void TernarizeRows(Tensor weight, Tensor scale, Tensor effectiveWeight)
    {
        var (w, s, e) = (Float32(weight, nameof(weight)), Float32(scale, nameof(scale)), Float32(effectiveWeight, nameof(effectiveWeight)));
        var (rows, width) = TernaryShapes.TernarizeRows(weight, scale, effectiveWeight);
        CpuParallel.ForRows(rows, 4L * width, (start, count) =>
            Ops.Ternary.TernarizeRows(w.Span<float>().Slice(start * width, count * width), s.Span<float>().Slice(start, count),
                e.Span<float>().Slice(start * width, count * width)));
    }

    /// <inheritdoc />
    public void TernarizeRowsBackward(Tensor weight, Tensor effectiveWeightGradient, Tensor scale, Tensor weightGradient, Tensor scaleGradient, bool overwrite = false)
    {
        var (w, ge, s) = (Float32(weight, nameof(weight)), Float32(effectiveWeightGradient, nameof(effectiveWeightGradient)), Float32(scale, nameof(scale)));
        var (gw, gs) = (Float32(weightGradient, nameof(weightGradient)), Float32(scaleGradient, nameof(scaleGradient)));
        var (rows, width) = TernaryShapes.TernarizeRowsBackward(weight, effectiveWeightGradient, scale, weightGradient, scaleGradient);
        CpuParallel.ForRows(rows, 6L * width, (start, count) =>
            Ops.Ternary.TernarizeRowsBackward(w.Span<float>().Slice(start * width, count * width), ge.Span<float>().Slice(start * width, count * width),
                s.Span<float>().Slice(start, count), gw.Span<float>().Slice(start * width, count * width), gs.Span<float>().Slice(start, count), overwrite));
    }

    /// <inheritdoc />
    public void TernarizeTensor(Tensor weight, Tensor quantized, Tensor gamma, Tensor effectiveWeight)
    {
        TernaryShapes.TernarizeTensor(weight, quantized, gamma, effectiveWeight);
        var q = Typed(quantized, DType.Int8, nameof(quantized));
        Floats(gamma, nameof(gamma))[0] = Ops.Ternary.TernarizeTensor(Floats(weight, nameof(weight)), q.Span<sbyte>(), Floats(effectiveWeight, nameof(effectiveWeight)));
    }

    /// <inheritdoc />
    public void QuantizeActivations(Tensor input, Tensor quantized, Tensor rowScale, Tensor dequantized)
    {
        var (x, s, d) = (Float32(input, nameof(input)), Float32(rowScale, nameof(rowScale)), Float32(dequantized, nameof(dequantized)));
        var (rows, width) = TernaryShapes.QuantizeActivations(input, quantized, rowScale, dequantized);
        var q = Typed(quantized, DType.Int8, nameof(quantized));
        CpuParallel.ForRows(rows, 4L * width, (start, count) =>
            Ops.Ternary.QuantizeActivations(x.Span<float>().Slice(start * width, count * width), q.Span<sbyte>().Slice(start * width, count * width),
                s.Span<float>().Slice(start, count), d.Span<float>().Slice(start * width, count * width)));
    }

    /// <inheritdoc />
    public void TernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor quantizedWeight, Tensor gamma, Tensor? bias, Tensor output)
    {
        var (x, w) = (Typed(quantizedInput, DType.Int8, nameof(quantizedInput)), Typed(quantizedWeight, DType.Int8, nameof(quantizedWeight)));
        var (s, y) = (Float32(rowScale, nameof(rowScale)), Float32(output, nameof(output)));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var (rows, inFeatures, outFeatures) = TernaryShapes.TernaryInt8Matmul(quantizedInput, rowScale, quantizedWeight, gamma, bias, output);
        var g = Float32(gamma, nameof(gamma));
        CpuParallel.ForRows(rows, (long)inFeatures * outFeatures, (start, count) =>
            Ops.Ternary.Int8Matmul(x.Span<sbyte>().Slice(start * inFeatures, count * inFeatures), s.Span<float>().Slice(start, count), w.Span<sbyte>(), g.Span<float>(),
                b is null ? default : b.Span<float>(), y.Span<float>().Slice(start * outFeatures, count * outFeatures), inFeatures, outFeatures));
    }
}
