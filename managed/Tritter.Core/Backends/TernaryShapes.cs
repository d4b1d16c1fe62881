using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Core.Backends;

/// <summary>
/// The shape rules of <see cref="ITernaryOps"/> and <see cref="IPackedTernaryOps"/>, checked in one place for every
/// backend (as <see cref="OpShapes"/> does for the other families): each throws <see cref="ArgumentException"/> naming
/// the offending argument and returns the sizes the op derives. Element types of float32 tensors are the backends' check.
/// </summary>
public static class TernaryShapes
{
    /// <summary><see cref="ITernaryOps.TernarizeRows"/>: returns (rows, width) of the <c>[out, in]</c> weight.</summary>
    public static (int Rows, int Width) TernarizeRows(Tensor weight, Tensor scale, Tensor effectiveWeight)
    {
        var (rows, width) = Matrix(weight, nameof(weight));
        TensorChecks.RequireCount(scale, rows, nameof(scale));
        TensorChecks.RequireSameCount(weight, nameof(weight), effectiveWeight, nameof(effectiveWeight));
        return (rows, width);
    }

    /// <summary><see cref="ITernaryOps.TernarizeRowsBackward"/>: returns (rows, width).</summary>
    public static (int Rows, int Width) TernarizeRowsBackward(Tensor weight, Tensor effectiveWeightGradient, Tensor scale, Tensor weightGradient, Tensor scaleGradient)
    {
        var (rows, width) = TernarizeRows(weight, scale, effectiveWeightGradient);
        TensorChecks.RequireCount(scaleGradient, rows, nameof(scaleGradient));
        TensorChecks.RequireSameCount(weight, nameof(weight), weightGradient, nameof(weightGradient));
        return (rows, width);
    }

    /// <summary><see cref="ITernaryOps.TernarizeTensor"/>: returns the element count.</summary>
    public static long TernarizeTensor(Tensor weight, Tensor quantized, Tensor gamma, Tensor effectiveWeight)
    {
        TensorChecks.RequireType(quantized, DType.Int8, nameof(quantized));
        TensorChecks.RequireSameCount(weight, nameof(weight), quantized, nameof(quantized));
        TensorChecks.RequireSameCount(weight, nameof(weight), effectiveWeight, nameof(effectiveWeight));
        TensorChecks.RequireCount(gamma, 1, nameof(gamma));
        return weight.ElementCount;
    }

    /// <summary><see cref="ITernaryOps.QuantizeActivations"/>: returns (rows, width), a row per element of the row scale.</summary>
    public static (int Rows, int Width) QuantizeActivations(Tensor input, Tensor quantized, Tensor rowScale, Tensor dequantized)
    {
        TensorChecks.RequireType(quantized, DType.Int8, nameof(quantized));
        var rows = checked((int)rowScale.ElementCount);
        if (rows == 0 ? input.ElementCount != 0 : input.ElementCount % rows != 0)
            throw new ArgumentException($"input {input} does not split into {rows} rows, one per element of rowScale", nameof(input));
        TensorChecks.RequireSameCount(input, nameof(input), quantized, nameof(quantized));
        TensorChecks.RequireSameCount(input, nameof(input), dequantized, nameof(dequantized));
        return (rows, rows == 0 ? 0 : checked((int)(input.ElementCount / rows)));
    }

    /// <summary><see cref="ITernaryOps.TernaryInt8Matmul"/>: returns (rows, inFeatures, outFeatures).</summary>
    public static (int Rows, int InFeatures, int OutFeatures) TernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor quantizedWeight, Tensor gamma,
        Tensor? bias, Tensor output)
    {
        TensorChecks.RequireType(quantizedInput, DType.Int8, nameof(quantizedInput));
        TensorChecks.RequireType(quantizedWeight, DType.Int8, nameof(quantizedWeight));
        var (outFeatures, inFeatures) = Matrix(quantizedWeight, nameof(quantizedWeight));
        var rows = TensorChecks.RequireRows(quantizedInput, inFeatures, nameof(quantizedInput));
        TensorChecks.RequireCount(rowScale, rows, nameof(rowScale));
        TensorChecks.RequireCount(output, (long)rows * outFeatures, nameof(output));
        TensorChecks.RequireCount(gamma, 1, nameof(gamma));
        if (bias is not null)
            TensorChecks.RequireCount(bias, outFeatures, nameof(bias));
        return (rows, inFeatures, outFeatures);
    }

    /// <summary>
    /// <see cref="IPackedTernaryOps.PackedTernaryMatmul"/>: returns (rows M, columns K, outputs N) for UInt8
    /// <c>[N, PaddedColumns(K) / 4]</c> packed weights, a scale of N elements or 1, a bias of N and an output of M x N.
    /// </summary>
    public static (int Rows, int Columns, int Outputs) PackedTernaryMatmul(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias, Tensor output)
    {
        var (rows, columns, outputs) = PackedTernaryOperands(input, packedWeight, scale, bias);
        TensorChecks.RequireCount(output, (long)rows * outputs, nameof(output));
        return (rows, columns, outputs);
    }

    /// <summary>
    /// The input, weights, scale and bias of a packed ternary product, checked as <see cref="PackedTernaryMatmul"/>
    /// checks them, for ops whose output is not the plain product: returns (rows M, columns K, outputs N).
    /// </summary>
    public static (int Rows, int Columns, int Outputs) PackedTernaryOperands(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias)
    {
        TensorChecks.RequireType(packedWeight, DType.UInt8, nameof(packedWeight));
        var columns = input.Shape[-1];
        var outputs = packedWeight.Shape[0];
        if (packedWeight.Shape.Rank != 2 || packedWeight.Shape[1] != TernaryPacking.PaddedColumns(columns) / 4)
            throw new ArgumentException($"packedWeight {packedWeight} does not hold [N, {TernaryPacking.PaddedColumns(columns) / 4}] bytes for K = {columns}", nameof(packedWeight));
        var rows = TensorChecks.RequireRows(input, columns, nameof(input));
        if (scale.ElementCount != outputs && scale.ElementCount != 1)
            throw new ArgumentException($"scale {scale} must hold {outputs} elements (per row) or 1 (per tensor)", nameof(scale));
        if (bias is not null)
            TensorChecks.RequireCount(bias, outputs, nameof(bias));
        return (rows, columns, outputs);
    }

    /// <summary><see cref="IPackedTernaryTrainingOps.PackedTernaryInt8Matmul"/>: returns (rows M, columns K, outputs N).</summary>
    public static (int Rows, int Columns, int Outputs) PackedTernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor packedWeight, Tensor scale,
        Tensor? bias, Tensor output)
    {
        TensorChecks.RequireType(quantizedInput, DType.Int8, nameof(quantizedInput));
        var (rows, columns, outputs) = PackedTernaryMatmul(quantizedInput, packedWeight, scale, bias, output);
        TensorChecks.RequireCount(rowScale, rows, nameof(rowScale));
        return (rows, columns, outputs);
    }

    /// <summary><see cref="IPackedTernaryTrainingOps.PackTernaryRows"/>: returns (rows N, columns K).</summary>
    public static (int Rows, int Columns) PackTernaryRows(Tensor weight, Tensor packedWeight)
    {
        var (rows, columns) = Matrix(weight, nameof(weight));
        TensorChecks.RequireType(packedWeight, DType.UInt8, nameof(packedWeight));
        TensorChecks.RequireShape(packedWeight, [rows, TernaryPacking.PaddedColumns(columns) / 4], nameof(packedWeight));
        return (rows, columns);
    }

    /// <summary>
    /// <see cref="IPackedTernaryTrainingOps.PackedTernaryMatmulBackward"/>: returns (rows M, columns K, outputs N), K being
    /// the last dimension of <paramref name="inputGradient"/>.
    /// </summary>
    public static (int Rows, int Columns, int Outputs) PackedTernaryMatmulBackward(Tensor outputGradient, Tensor packedWeight, Tensor scale, Tensor inputGradient) =>
        PackedTernaryMatmul(inputGradient, packedWeight, scale, null, outputGradient);

    private static (int Rows, int Columns) Matrix(Tensor matrix, string name)
    {
        TensorChecks.RequireRank(matrix, 2, name);
        return (matrix.Shape[0], matrix.Shape[1]);
    }
}
