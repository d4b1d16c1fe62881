using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Cpu;

public sealed partial class CpuBackend : IPackedTernaryTrainingOps
{
    /// <inheritdoc />
    public void PackTernaryRows(Tensor weight, Tensor packedWeight)
    {
        var w = Float32(weight, nameof(weight));
        var (rows, columns) = TernaryShapes.PackTernaryRows(weight, packedWeight);
        var wordsPerRow = TernaryPacking.WordsPerRow(columns);
        var p = Own(packedWeight);
        CpuParallel.ForRows(rows, 2L * columns, (start, count) =>
            Ops.Ternary.PackRows(w.Span<float>().Slice(start * columns, count * columns), count,
                MemoryMarshal.Cast<byte, uint>(p.Span<byte>()).Slice(start * wordsPerRow, count * wordsPerRow)));
    }

    /// <inheritdoc />
    public void PackedTernaryMatmulBackward(Tensor outputGradient, Tensor packedWeight, Tensor scale, Tensor inputGradient)
    {
        var (dy, s, dx) = (Float32(outputGradient, nameof(outputGradient)), Float32(scale, nameof(scale)), Float32(inputGradient, nameof(inputGradient)));
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryMatmulBackward(outputGradient, packedWeight, scale, inputGradient);
        var codes = new sbyte[outputs * columns];
        TernaryPacking.Unpack(MemoryMarshal.Cast<byte, uint>(Own(packedWeight).Span<byte>()), outputs, columns, codes);
        var floats = Array.ConvertAll(codes, c => (float)c);
        CpuParallel.ForRows(rows, 2L * outputs * columns, (start, count) =>
            Ops.Ternary.PackedInputGradient(dy.Span<float>().Slice(start * outputs, count * outputs), floats, s.Span<float>(),
                dx.Span<float>().Slice(start * columns, count * columns), columns, outputs));
    }

    /// <inheritdoc />
    public void PackedTernaryInt8Matmul(Tensor quantizedInput, Tensor rowScale, Tensor packedWeight, Tensor scale, Tensor? bias, Tensor output)
    {
        var x = Typed(quantizedInput, DType.Int8, nameof(quantizedInput));
        var (rs, s, y) = (Float32(rowScale, nameof(rowScale)), Float32(scale, nameof(scale)), Float32(output, nameof(output)));
        var b = bias is null ? null : Float32(bias, nameof(bias));
        var (rows, columns, outputs) = TernaryShapes.PackedTernaryInt8Matmul(quantizedInput, rowScale, packedWeight, scale, bias, output);
        var codes = new sbyte[outputs * columns];
        TernaryPacking.Unpack(MemoryMarshal.Cast<byte, uint>(Own(packedWeight).Span<byte>()), outputs, columns, codes);
        CpuParallel.ForRows(rows, (long)columns * outputs, (start, count) =>
            Ops.Ternary.Int8Matmul(x.Span<sbyte>().Slice(start * columns, count * columns), rs.Span<float>().Slice(start, count), codes, s.Span<float>(),
                b is null ? default : b.Span<float>(), y.Span<float>().Slice(start * outputs, count * outputs), columns, outputs));
    }
}
