namespace Tritter.Cpu.Ops;

/// <summary>
/// The fused ops of a decode step (<c>IDecodeFusedOps</c>) on spans, the CPU twin of <c>kernels/decode_fused.cu</c>. Each
/// is written as the sequence of ops it replaces, so it has their bits by construction; the fusion saves GPU launches,
/// not CPU work.
/// </summary>
public static class DecodeFused
{
    /// <summary>
    /// QK-Norm then RoPE of one token's heads: <paramref name="heads"/> holds rows of <c>weight.Length</c> (headDim)
    /// elements, <paramref name="cosines"/> and <paramref name="sines"/> the token's <c>headDim/2</c> angles.
    /// <paramref name="output"/> may not alias <paramref name="heads"/>.
    /// </summary>
    public static void NormRotate(ReadOnlySpan<float> heads, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float epsilon,
        ReadOnlySpan<float> cosines, ReadOnlySpan<float> sines, Span<float> output)
    {
        var headDim = weight.Length;
        var rows = SpanChecks.Rows(heads.Length, headDim, nameof(heads));
        var statistics = new float[2 * rows];
        LayerNorm.Forward(heads, weight, bias, output, statistics.AsSpan(0, rows), statistics.AsSpan(rows), epsilon);
        Rope.Rotate(output, output, cosines, sines, 1, rows, headDim, 0, inverse: false);
    }

    /// <summary><c>output[t, i] = sqrelu(gateUp[t, i]) * gateUp[t, inter + i]</c>, <paramref name="gateUp"/> rows of <c>2 inter</c>.</summary>
    public static void GatedSquaredRelu(ReadOnlySpan<float> gateUp, Span<float> output, int inter)
    {
        var tokens = SpanChecks.Rows(output.Length, inter, nameof(output));
        SpanChecks.Length(2 * output.Length, gateUp.Length, nameof(gateUp));
        for (var t = 0; t < tokens; t++)
        {
            var row = output.Slice(t * inter, inter);
            SquaredRelu.Forward(gateUp.Slice(2 * t * inter, inter), row);
            Elementwise.Multiply(row, gateUp.Slice((2 * t + 1) * inter, inter), row);
        }
    }

    /// <summary><c>output = LayerNorm(a + b)</c> per row of <c>weight.Length</c> elements; <paramref name="output"/> may be <paramref name="a"/> or <paramref name="b"/>.</summary>
    public static void AddLayerNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> output, float epsilon)
    {
        var rows = SpanChecks.Rows(a.Length, weight.Length, nameof(a));
        var statistics = new float[2 * rows];
        Elementwise.Add(a, b, output);
        LayerNorm.Forward(output, weight, bias, output, statistics.AsSpan(0, rows), statistics.AsSpan(rows), epsilon);
    }
}
