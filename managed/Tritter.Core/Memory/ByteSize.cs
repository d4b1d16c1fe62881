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
}
