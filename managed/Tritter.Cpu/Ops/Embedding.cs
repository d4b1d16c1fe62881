namespace Tritter.Cpu.Ops;

/// <summary>Token embedding: row gather forward, scatter-add backward.</summary>
public static class Embedding
{
    /// <summary><c>output[n] = table[tokens[n]]</c>.</summary>
    public static void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> table, Span<float> output, int width)
    {
        var vocab = SpanChecks.Rows(table.Length, width, nameof(table));
        SpanChecks.Length(tokens.Length * width, output.Length, nameof(output));
        for (var n = 0; n < tokens.Length; n++)
            table.Slice(CheckedRow(tokens[n], vocab, n) * width, width).CopyTo(output.Slice(n * width, width));
    }

    /// <summary><c>tableGradient[tokens[n]] += outputGradient[n]</c>, tokens in order; the padding row gets no gradient.</summary>
    public static void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> outputGradient, Span<float> tableGradient, int width)
    {
        var vocab = SpanChecks.Rows(tableGradient.Length, width, nameof(tableGradient));
        SpanChecks.Length(tokens.Length * width, outputGradient.Length, nameof(outputGradient));
        for (var n = 0; n < tokens.Length; n++)
        {
            if (tokens[n] == Loss.PaddingId)
                continue;
            var row = tableGradient.Slice(CheckedRow(tokens[n], vocab, n) * width, width);
            Elementwise.Accumulate(outputGradient.Slice(n * width, width), row);
        }
    }

    private static int CheckedRow(int token, int vocab, int position)
    {
        if ((uint)token >= (uint)vocab)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id at position {position} is outside the vocabulary of {vocab}");
        return token;
    }
}
