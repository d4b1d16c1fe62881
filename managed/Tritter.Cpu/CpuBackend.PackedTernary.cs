using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;
using Tritter.Cpu.Ternary;

namespace Tritter.Cpu;

public sealed partial class CpuBackend : IPackedTernaryOps
{
    /// <inheritdoc />
    public void PackedTernaryMatmul(Tensor input, Tensor packedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        var (m, columns, rows) = TernaryShapes.PackedTernaryMatmul(input, packedWeight, scale, bias, output);
        var x = Float32(input, nameof(input)).Span<float>();
        var words = MemoryMarshal.Cast<byte, uint>(Own(packedWeight).Span<byte>());
        var scales = Float32(scale, nameof(scale)).Span<float>();
        var biasValues = bias is null ? [] : Float32(bias, nameof(bias)).Span<float>();
        var y = Float32(output, nameof(output)).Span<float>();
        if (scheme == TernaryScheme.Paper)
            TernaryMatmul.MultiplyInt8(x, m, words, rows, columns, scales, biasValues, y);
        else
            TernaryMatmul.MultiplyFloat(x, m, words, rows, columns, scales, biasValues, y);
    }

    /// <summary>
    /// The int8 kernels read the canonical layout; the float32 lookup kernel (AVX-512) reads row groups interleaved
    /// (<see cref="TernaryMatmul.ArrangeFloat"/>).
    /// </summary>
    public void ArrangePackedTernary(Span<uint> words, int rows, int columns, TernaryScheme scheme)
    {
        Ops.SpanChecks.Length(checked(rows * TernaryPacking.WordsPerRow(columns)), words.Length, nameof(words));
        if (scheme == TernaryScheme.Reference)
            TernaryMatmul.ArrangeFloat(words, rows, columns);
    }

    /// <inheritdoc />
    public void ArrangedTernaryMatmul(Tensor input, Tensor arrangedWeight, Tensor scale, Tensor? bias, TernaryScheme scheme, Tensor output)
    {
        if (scheme == TernaryScheme.Paper)
        {
            PackedTernaryMatmul(input, arrangedWeight, scale, bias, scheme, output);
            return;
        }
        var (m, columns, rows) = TernaryShapes.PackedTernaryMatmul(input, arrangedWeight, scale, bias, output);
        var biasValues = bias is null ? [] : Float32(bias, nameof(bias)).Span<float>();
        TernaryMatmul.MultiplyFloatArranged(Float32(input, nameof(input)).Span<float>(), m, MemoryMarshal.Cast<byte, uint>(Own(arrangedWeight).Span<byte>()), rows, columns,
            Float32(scale, nameof(scale)).Span<float>(), biasValues, Float32(output, nameof(output)).Span<float>());
    }
}
