namespace Tritter.Cuda;

/// <summary>The names command lines give a <see cref="MatmulPrecision"/>: <c>tf32</c> and <c>bf16</c>.</summary>
public static class MatmulPrecisionNames
{
    /// <summary>The accepted names, for usage and error messages.</summary>
    public const string Expected = "tf32 or bf16";

    /// <summary>Reads <paramref name="name"/> (any case); false where it names no precision.</summary>
    public static bool TryParse(string name, out MatmulPrecision precision)
    {
        (var known, precision) = name.ToLowerInvariant() switch
        {
            "tf32" => (true, MatmulPrecision.Tf32),
            "bf16" => (true, MatmulPrecision.BFloat16),
            _ => (false, default),
        };
        return known;
    }
}
