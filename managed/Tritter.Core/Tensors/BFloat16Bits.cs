namespace Tritter.Core.Tensors;

/// <summary>
/// bfloat16 as raw 16-bit patterns (the top half of a float32): widening is exact; narrowing rounds to nearest, ties to
/// even, as CUDA's <c>__float2bfloat16_rn</c> does, so both backends store the same bits.
/// </summary>
public static class BFloat16Bits
{
    /// <summary>The float32 value of <paramref name="bits"/>.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary><paramref name="value"/> rounded to the nearest bfloat16 (ties to even); NaN stays NaN.</summary>
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>Widens every element of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = ToSingle(source[i]);
    }

    /// <summary>Narrows every element of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = FromSingle(source[i]);
    }
}
