using System.Globalization;

namespace Tritter.Core.Memory;

/// <summary>Byte counts in the binary units GPU memory is sold in (a "16 GB" card holds 16 GiB).</summary>
public static class ByteSize
{
    /// <summary>Bytes in one GiB.</summary>
    public const long GiB = 1L << 30;

    /// <summary><paramref name="bytes"/> as "1.23 GiB", "45.6 MiB", "7.8 KiB" or "12 B".</summary>
    public static string Format(long bytes)
    {
        var magnitude = Math.Abs(bytes);
        return magnitude switch
        {
            >= GiB => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)GiB:F2} GiB"),
            >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
            >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        };
    }

    /// <summary>
    /// Reads a size: a whole number of bytes (<c>8589934592</c>), or a number with a binary unit, <c>GiB</c> or
    /// <c>MiB</c> (<c>8GiB</c>, <c>1.5 GiB</c>, <c>512MiB</c>; <c>G</c>/<c>GB</c> and <c>M</c>/<c>MB</c> mean the same, as
    /// GPU memory is sold). False for anything else, and for sizes that are not positive.
    /// </summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        var value = text?.Trim() ?? "";
        var unit = value.TrimStart("0123456789.eE+-".ToCharArray()) is var tail && tail.Length < value.Length ? tail : null;
        if (unit is null)
            return false;
        var scale = unit.Trim().ToUpperInvariant() switch
        {
            "" => 1L,
            "G" or "GB" or "GIB" => GiB,
            "M" or "MB" or "MIB" => 1L << 20,
            _ => 0L,
        };
        if (scale == 0 || !double.TryParse(value[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return false;
        var total = number * scale;
        if (!(total >= 1) || total > long.MaxValue / 2 || (scale == 1 && number != Math.Floor(number)))
            return false;
        bytes = (long)total;
        return true;
    }
}
