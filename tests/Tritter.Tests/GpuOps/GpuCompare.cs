namespace Tritter.Tests.GpuOps;

/// <summary>Element-by-element comparison of a GPU result with the CPU backend's, reporting the first mismatch.</summary>
public static class GpuCompare
{
    /// <summary>The sizes every element-wise GPU test runs: one element, a partial float4, an odd tail, one past 2^16.</summary>
    public static readonly int[] OddSizes = [1, 7, 1023, 65537];

    /// <summary>Asserts every element within <paramref name="ulps"/> units in the last place (0: bit-equal).</summary>
    public static void Ulps(float[] expected, float[] actual, int ulps, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (var i = 0; i < expected.Length; i++)
        {
            if (Distance(expected[i], actual[i]) > ulps)
                Assert.Fail($"{what}[{i}] of {expected.Length}: GPU {actual[i]:R}, CPU {expected[i]:R} (more than {ulps} ulp apart)");
        }
    }

    /// <summary>
    /// Asserts <c>|actual - expected| &lt;= relative * (|expected| + scale)</c> per element: a relative bound, floored at
    /// <paramref name="scale"/> (the magnitude of the terms that were summed) so that values near zero after
    /// cancellation are held to the precision of what produced them.
    /// </summary>
    public static void Close(float[] expected, float[] actual, double relative, double scale, string what) =>
        Close(expected, actual, relative, _ => scale, what);

    /// <summary>As <see cref="Close(float[], float[], double, double, string)"/>, with a floor per element.</summary>
    public static void Close(float[] expected, float[] actual, double relative, Func<int, double> scale, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = relative * (Math.Abs(expected[i]) + scale(i));
            if (!(Math.Abs((double)actual[i] - expected[i]) <= bound))
                Assert.Fail($"{what}[{i}] of {expected.Length}: GPU {actual[i]:R}, CPU {expected[i]:R} (bound {bound:G3})");
        }
    }

    /// <summary>Root mean square, the typical magnitude of a tensor's elements.</summary>
    public static double Rms(float[] values) =>
        values.Length == 0 ? 0 : Math.Sqrt(values.Sum(v => (double)v * v) / values.Length);

    /// <summary>Asserts two runs of one GPU op produced the same bits.</summary>
    public static void BitEqual(float[] first, float[] second, string what) => Ulps(first, second, 0, what + " (run twice)");

    private static long Distance(float a, float b)
    {
        if (a == b || (float.IsNaN(a) && float.IsNaN(b)))
            return 0;
        if (float.IsNaN(a) || float.IsNaN(b))
            return long.MaxValue;
        return Math.Abs(Ordered(a) - Ordered(b));
    }

    // Maps float bits onto a line where adjacent floats differ by one, across zero.
    private static long Ordered(float value)
    {
        var bits = BitConverter.SingleToInt32Bits(value);
        return bits < 0 ? int.MinValue - (long)bits : bits;
    }
}
