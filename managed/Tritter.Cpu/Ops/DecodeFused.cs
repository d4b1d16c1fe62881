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

    /// <summary>
    /// <c>output[i] = sqrelu(gateUp[2i]) * gateUp[2i + 1]</c>: the gate|up product with its features interleaved (gate i,
    /// up i), the float32 operations of <see cref="SquaredRelu.Forward"/> then <see cref="Elementwise.Multiply"/>.
    /// </summary>
    public static void GatedSquaredRelu(ReadOnlySpan<float> gateUp, Span<float> output)
    {
        SpanChecks.Length(2 * output.Length, gateUp.Length, nameof(gateUp));
        for (var i = 0; i < output.Length; i++)
        {
            var r = MathF.Max(gateUp[2 * i], 0f);
            output[i] = r * r * gateUp[2 * i + 1];
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

    /// <summary><see cref="AddLayerNorm"/>, then <c>nextOutput = LayerNorm(output)</c> with the next norm's weight and bias.</summary>
    public static void AddLayerNormThenNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> output, float epsilon, ReadOnlySpan<float> nextWeight, ReadOnlySpan<float> nextBias, float nextEpsilon, Span<float> nextOutput)
    {
        AddLayerNorm(a, b, weight, bias, output, epsilon);
        var rows = SpanChecks.Rows(a.Length, weight.Length, nameof(a));
        var statistics = new float[2 * rows];
        LayerNorm.Forward(output, nextWeight, nextBias, nextOutput, statistics.AsSpan(0, rows), statistics.AsSpan(rows), nextEpsilon);
    }
}
