namespace Tritter.Cpu.Ops;

/// <summary>
/// Rotary position embedding, rotate-half form, over <c>[batch, seq, heads, head_dim]</c>. The backward pass is the
/// same rotation by the opposite angle.
/// </summary>
public static class Rope
{
    /// <summary>
    /// Cosines and sines <c>[seq, head_dim/2]</c> of angle <c>(firstPosition + t) * theta^(-2i/head_dim)</c>, computed in
    /// float64 then rounded once.
    /// </summary>
    public static void Angles(int sequenceLength, int headDim, double theta, Span<float> cosines, Span<float> sines, long firstPosition = 0)
    {
        var half = headDim / 2;
        SpanChecks.Length(sequenceLength * half, cosines.Length, nameof(cosines));
        SpanChecks.Length(sequenceLength * half, sines.Length, nameof(sines));
        for (var t = 0; t < sequenceLength; t++)
        {
            for (var i = 0; i < half; i++)
            {
                var angle = (double)(firstPosition + t) * Math.Pow(theta, -2.0 * i / headDim);
                cosines[t * half + i] = (float)Math.Cos(angle);
                sines[t * half + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>
    /// Rotates rows of <paramref name="headDim"/> elements; <paramref name="firstRow"/> is the index of the first row in
    /// the whole <c>[batch, seq, heads]</c> grid, which sets its position. <paramref name="inverse"/> rotates backwards
    /// (the gradient). Input and output may alias.
    /// </summary>
    public static void Rotate(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> cosines, ReadOnlySpan<float> sines,
        int sequenceLength, int heads, int headDim, int firstRow, bool inverse)
    {
        var half = headDim / 2;
        var rows = SpanChecks.Rows(input.Length, headDim, nameof(input));
        SpanChecks.Length(input.Length, output.Length, nameof(output));
        var sign = inverse ? -1f : 1f;
        for (var r = 0; r < rows; r++)
        {
            var position = (firstRow + r) / heads % sequenceLength;
            var cos = cosines.Slice(position * half, half);
            var sin = sines.Slice(position * half, half);
            var offset = r * headDim;
            for (var i = 0; i < half; i++)
            {
                var x1 = input[offset + i];
                var x2 = input[offset + half + i];
                var s = sign * sin[i];
                output[offset + i] = x1 * cos[i] - x2 * s;
                output[offset + half + i] = x2 * cos[i] + x1 * s;
            }
        }
    }
}
