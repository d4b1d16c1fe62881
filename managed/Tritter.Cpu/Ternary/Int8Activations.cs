using System.Numerics.Tensors;

namespace Tritter.Cpu.Ternary;

/// <summary>
/// Per-token absmax quantisation of activations to int8 (DESIGN.md §4):
/// <c>x_q = clamp(round(x * 127 / max|x|), -127, 127)</c>, with <c>max|x|</c> floored at 1e-5 as in the reference.
/// </summary>
public static class Int8Activations
{
    /// <summary>The reference's floor on <c>max|x|</c>.</summary>
    public const float MinAbsMax = 1e-5f;

    /// <summary>
    /// Quantises one row; returns <c>max|x| / 127</c>, the factor that turns integer dot products back into the
    /// activations' scale.
    /// </summary>
    public static float Quantize(ReadOnlySpan<float> row, Span<sbyte> quantized)
    {
        if (quantized.Length != row.Length)
            throw new ArgumentException($"{row.Length} activations, {quantized.Length} outputs", nameof(quantized));
        var absMax = MathF.Max(MathF.Abs(TensorPrimitives.MaxMagnitude(row)), MinAbsMax);
        var scale = 127f / absMax;
        for (var k = 0; k < row.Length; k++)
            quantized[k] = (sbyte)Math.Clamp(MathF.Round(row[k] * scale), -127f, 127f);
        return absMax / 127f;
    }
}
