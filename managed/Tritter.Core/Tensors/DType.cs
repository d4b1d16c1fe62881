namespace Tritter.Core.Tensors;

/// <summary>Element types a tensor can hold.</summary>
public enum DType
{
    /// <summary>IEEE 754 single precision.</summary>
    Float32,
    /// <summary>Brain float 16: float32's exponent, 7 mantissa bits.</summary>
    BFloat16,
    /// <summary>IEEE 754 half precision.</summary>
    Float16,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 8-bit integer (quantised activations).</summary>
    Int8,
    /// <summary>Unsigned byte (packed ternary weights, INT4 KV-cache).</summary>
    UInt8,
}

/// <summary>Sizes and names of <see cref="DType"/>.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType type) => type switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.BFloat16 or DType.Float16 => 2,
        DType.Int8 or DType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown dtype"),
    };
}
