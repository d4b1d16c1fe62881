using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        var (x, w, y) = (Float32(input, nameof(input)), Float32(weight, nameof(weight)), Float32(output, nameof(output)));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var (outFeatures, inFeatures) = MatrixShape(weight);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(output, (long)rows * outFeatures, nameof(output));
        if (bias is not null)
            TensorChecks.RequireCount(bias, outFeatures, nameof(bias));
        CpuParallel.ForRows(rows, (long)inFeatures * outFeatures, (start, count) =>
            Ops.Matmul.Forward(x.Span<float>().Slice(start * inFeatures, count * inFeatures), w.Span<float>(),
                b is null ? default : b.Span<float>(), y.Span<float>().Slice(start * outFeatures, count * outFeatures), inFeatures, outFeatures));
    }

    /// <inheritdoc />
    public void MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient)
    {
        var (dy, x, w) = (Float32(outputGradient, nameof(outputGradient)), Float32(input, nameof(input)), Float32(weight, nameof(weight)));
        var dw = Float32(weightGradient, nameof(weightGradient));
        var (outFeatures, inFeatures) = MatrixShape(weight);
        var rows = TensorChecks.RequireRows(input, inFeatures, nameof(input));
        TensorChecks.RequireCount(outputGradient, (long)rows * outFeatures, nameof(outputGradient));
        TensorChecks.RequireCount(weightGradient, weight.ElementCount, nameof(weightGradient));
        var db = biasGradient is null ? null : Float32(biasGradient, nameof(biasGradient));
        if (biasGradient is not null)
            TensorChecks.RequireCount(biasGradient, outFeatures, nameof(biasGradient));
        if (inputGradient is not null)
        {
            var dx = Float32(inputGradient, nameof(inputGradient));
            TensorChecks.RequireSameCount(input, nameof(input), inputGradient, nameof(inputGradient));
            CpuParallel.ForRows(rows, (long)inFeatures * outFeatures, (start, count) =>
                Ops.Matmul.BackwardInput(dy.Span<float>().Slice(start * outFeatures, count * outFeatures), w.Span<float>(),
                    dx.Span<float>().Slice(start * inFeatures, count * inFeatures), inFeatures, outFeatures));
        }
        CpuParallel.ForRows(outFeatures, (long)rows * inFeatures, (start, count) =>
            Ops.Matmul.BackwardWeight(dy.Span<float>(), x.Span<float>(), dw.Span<float>().Slice(start * inFeatures, count * inFeatures),
                db is null ? default : db.Span<float>().Slice(start, count), inFeatures, outFeatures, start));
    }

    private static (int Rows, int Columns) MatrixShape(Tensor matrix)
    {
        TensorChecks.RequireRank(matrix, 2, nameof(matrix));
        return (matrix.Shape[0], matrix.Shape[1]);
    }
}
