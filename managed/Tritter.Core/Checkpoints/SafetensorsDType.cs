namespace Tritter.Core.Checkpoints;

/// <summary>The element types of the safetensors format, named as its header spells them.</summary>
public enum SafetensorsDType
{
    /// <summary><c>BOOL</c>, one byte.</summary>
    Bool,
    /// <summary><c>U8</c>; packed ternary weights are stored as this.</summary>
    U8,
    /// <summary><c>I8</c>.</summary>
    I8,
    /// <summary><c>F8_E5M2</c>.</summary>
    F8E5M2,
    /// <summary><c>F8_E4M3</c>.</summary>
    F8E4M3,
    /// <summary><c>I16</c>.</summary>
    I16,
    /// <summary><c>U16</c>.</summary>
    U16,
    /// <summary><c>F16</c>.</summary>
    F16,
    /// <summary><c>BF16</c>.</summary>
    BF16,
    /// <summary><c>I32</c>.</summary>
    I32,
    /// <summary><c>U32</c>.</summary>
    U32,
    /// <summary><c>F32</c>.</summary>
    F32,
    /// <summary><c>I64</c>.</summary>
    I64,
    /// <summary><c>U64</c>.</summary>
    U64,
    /// <summary><c>F64</c>.</summary>
    F64,
}

/// <summary>Header names and element sizes of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    private static readonly string[] Names =
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "I64", "U64", "F64"];

    private static readonly int[] Sizes = [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8];

    /// <summary>The name the header uses, e.g. <c>F32</c>.</summary>
    public static string HeaderName(this SafetensorsDType type) => Names[(int)type];

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this SafetensorsDType type) => Sizes[(int)type];

    /// <summary>Parses a header dtype name; false for names this reader does not know.</summary>
    public static bool TryParse(string name, out SafetensorsDType type)
    {
        var index = Array.IndexOf(Names, name);
        type = (SafetensorsDType)Math.Max(index, 0);
        return index >= 0;
    }
}
