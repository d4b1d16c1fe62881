namespace Tritter.Core.Ternary;

/// <summary>The two quantisers from full-precision weights to ternary values {-1, 0, +1}.</summary>
public static class TernaryQuantizer
{
    /// <summary>The reference's floor on <c>gamma</c>, so an all-zero tensor does not divide by zero.</summary>
    public const float MinGamma = 1e-5f;

    /// <summary>
    /// Reference scheme, per row of <paramref name="columns"/> weights: <c>alpha = mean(|w_row|)</c>, then
    /// <c>q = sign(w)</c> where <c>|w| &gt; alpha</c>, else 0.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> weights, int rows, int columns, Span<sbyte> values)
    {
        CheckSizes(weights.Length, rows, columns, values.Length);
        for (var r = 0; r < rows; r++)
        {
            var row = weights.Slice(r * columns, columns);
            double sum = 0;
            foreach (var w in row)
                sum += Math.Abs(w);
            var alpha = (float)(sum / columns);
            var q = values.Slice(r * columns, columns);
            for (var k = 0; k < columns; k++)
                q[k] = Math.Abs(row[k]) > alpha ? (sbyte)Math.Sign(row[k]) : (sbyte)0;
        }
    }

    /// <summary>
    /// Paper scheme over the whole tensor: <c>gamma = max(mean(|W|), 1e-5)</c>, <c>q = clamp(round(W / gamma), -1, 1)</c>
    /// (round half to even, as PyTorch). Returns gamma, the scale that multiplies the ternary weights.
    /// </summary>
    public static float QuantizePaper(ReadOnlySpan<float> weights, Span<sbyte> values)
    {
        CheckSizes(weights.Length, 1, weights.Length, values.Length);
        double sum = 0;
        foreach (var w in weights)
            sum += Math.Abs(w);
        var gamma = MathF.Max((float)(sum / weights.Length), MinGamma);
        var inverse = 1f / gamma;
        for (var i = 0; i < weights.Length; i++)
            values[i] = (sbyte)Math.Clamp(MathF.Round(weights[i] * inverse), -1f, 1f);
        return gamma;
    }

    private static void CheckSizes(int weights, int rows, int columns, int values)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (weights != (long)rows * columns || values != weights)
            throw new ArgumentException($"{rows} x {columns} weights need spans of {(long)rows * columns}; got {weights} weights and {values} values");
    }
}
