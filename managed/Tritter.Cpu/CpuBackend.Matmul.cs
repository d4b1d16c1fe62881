using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using CommunityToolkit.HighPerformance.Buffers;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public DType WeightType(int inFeatures) => DType.Float32;

    /// <inheritdoc />
    public void ConvertOperand(Tensor source, Tensor destination)
    {
        var from = Float32(source, nameof(source));
        TensorChecks.RequireSameCount(source, nameof(source), destination, nameof(destination));
        if (destination.Type == DType.BFloat16)
            BFloat16Bits.FromSingle(from.Span<float>(), Typed(destination, DType.BFloat16, nameof(destination)).Span<ushort>());
        else
            from.Span<float>().CopyTo(Float32(destination, nameof(destination)).Span<float>());
    }

    /// <inheritdoc />
    public void Matmul(Tensor input, Tensor weight, Tensor? bias, Tensor output, Tensor? residual = null)
    {
        var (x, w, y) = (Float32(input, nameof(input)), Float32(weight, nameof(weight)), Float32(output, nameof(output)));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var r = residual is null ? null : Float32(residual, nameof(residual));
        var (rows, inFeatures, outFeatures) = OpShapes.Matmul(input, weight, bias, output, residual);
        CpuParallel.ForRows(rows, (long)inFeatures * outFeatures, (start, count) =>
        {
            var outputRows = y.Span<float>().Slice(start * outFeatures, count * outFeatures);
            Ops.Matmul.Forward(x.Span<float>().Slice(start * inFeatures, count * inFeatures), w.Span<float>(),
                b is null ? default : b.Span<float>(), outputRows, inFeatures, outFeatures);
            if (r is not null)
                TensorPrimitives.Add(outputRows, r.Span<float>().Slice(start * outFeatures, count * outFeatures), outputRows);
        });
    }

    /// <inheritdoc />
    public void MatmulBackward(Tensor outputGradient, Tensor input, Tensor weight, Tensor? inputGradient, Tensor weightGradient, Tensor? biasGradient,
        bool overwriteWeightGradient = false, bool accumulateInputGradient = false)
    {
        var (dy, x, w) = (Float32(outputGradient, nameof(outputGradient)), Float32(input, nameof(input)), Float32(weight, nameof(weight)));
        var dw = Float32(weightGradient, nameof(weightGradient));
        var (rows, inFeatures, outFeatures) = OpShapes.MatmulBackward(outputGradient, input, weight, inputGradient, weightGradient, biasGradient);
        var db = biasGradient is null ? null : Float32(biasGradient, nameof(biasGradient));
        if (inputGradient is not null)
        {
            var dx = Float32(inputGradient, nameof(inputGradient));
            using var weightTransposed = MemoryOwner<float>.Allocate((int)weight.ElementCount);
            Ops.Matmul.Transpose(w.Span<float>(), weightTransposed.Span, outFeatures, inFeatures);
            var wt = weightTransposed.Memory;
            CpuParallel.ForRows(rows, (long)inFeatures * outFeatures, (start, count) =>
                Ops.Matmul.MultiplyTransposed(dy.Span<float>().Slice(start * outFeatures, count * outFeatures), wt.Span,
                    dx.Span<float>().Slice(start * inFeatures, count * inFeatures), outFeatures, accumulate: accumulateInputGradient));
        }
        using var gradientTransposed = MemoryOwner<float>.Allocate((int)outputGradient.ElementCount);
        using var inputTransposed = MemoryOwner<float>.Allocate((int)input.ElementCount);
        Ops.Matmul.Transpose(dy.Span<float>(), gradientTransposed.Span, rows, outFeatures);
        Ops.Matmul.Transpose(x.Span<float>(), inputTransposed.Span, rows, inFeatures);
        var (dyt, xt) = (gradientTransposed.Memory, inputTransposed.Memory);
        CpuParallel.ForRows(outFeatures, (long)rows * inFeatures, (start, count) =>
            Ops.Matmul.MultiplyTransposed(dyt.Span.Slice(start * rows, count * rows), xt.Span,
                dw.Span<float>().Slice(start * inFeatures, count * inFeatures), rows, accumulate: !overwriteWeightGradient));
        if (db is not null)
            Ops.Matmul.AccumulateRowSums(dyt.Span, db.Span<float>(), rows);
    }

    private static (int Rows, int Columns) MatrixShape(Tensor matrix)
    {
        TensorChecks.RequireRank(matrix, 2, nameof(matrix));
        return (matrix.Shape[0], matrix.Shape[1]);
    }
}
