namespace Tritter.Core.Ternary;

/// <summary>
/// A ternary weight matrix <c>[Rows (out features), Columns (in features)]</c> in the packed layout of
/// <see cref="TernaryPacking"/>, with its scale beside it: one per row (reference scheme) or one for the whole
/// tensor (paper scheme). The effective weight is <c>W[n, k] = q[n, k] * scale(n)</c>.
/// </summary>
public sealed class PackedTernaryMatrix
{
    /// <summary>Wraps packed words and scales, validating every code; the arrays are taken, not copied.</summary>
    public PackedTernaryMatrix(int rows, int columns, TernaryScheme scheme, uint[] words, float[] scales)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        var expectedScales = scheme == TernaryScheme.Reference ? rows : 1;
        if (scales.Length != expectedScales)
            throw new ArgumentException($"{scheme} scheme needs {expectedScales} scales for {rows} rows, got {scales.Length}", nameof(scales));
        TernaryPacking.Validate(words, rows, columns);
        Rows = rows;
        Columns = columns;
        Scheme = scheme;
        Words = words;
        Scales = scales;
    }

    /// <summary>Output features (N).</summary>
    public int Rows { get; }

    /// <summary>Input features (K) before padding.</summary>
    public int Columns { get; }

    /// <summary>K padded to <see cref="TernaryPacking.ColumnAlignment"/>.</summary>
    public int PaddedColumns => TernaryPacking.PaddedColumns(Columns);

    /// <summary>32-bit words per row.</summary>
    public int WordsPerRow => TernaryPacking.WordsPerRow(Columns);

    /// <summary>Which quantiser produced the weights, and so how many scales there are.</summary>
    public TernaryScheme Scheme { get; }

    /// <summary>The packed codes, <see cref="Rows"/> x <see cref="WordsPerRow"/> words.</summary>
    public uint[] Words { get; }

    /// <summary>Per-row scales (reference) or the single per-tensor gamma (paper).</summary>
    public float[] Scales { get; }

    /// <summary>Size of the packed codes in bytes.</summary>
    public long PackedBytes => (long)Words.Length * sizeof(uint);

    /// <summary>The scale of row <paramref name="row"/>.</summary>
    public float ScaleOf(int row) => Scales.Length == 1 ? Scales[0] : Scales[row];

    /// <summary>
    /// Reference scheme: ternarises <paramref name="weights"/> per row and keeps <paramref name="scale"/> (the
    /// learnable per-row scale, <c>[Rows, 1]</c> in the checkpoint) beside the codes.
    /// </summary>
    public static PackedTernaryMatrix QuantizeReference(ReadOnlySpan<float> weights, int rows, int columns, ReadOnlySpan<float> scale)
    {
        var values = new sbyte[weights.Length];
        TernaryQuantizer.QuantizeReference(weights, rows, columns, values);
        return FromValues(values, rows, columns, TernaryScheme.Reference, scale.ToArray());
    }

    /// <summary>Paper scheme: ternarises <paramref name="weights"/> with one per-tensor gamma, which becomes the scale.</summary>
    public static PackedTernaryMatrix QuantizePaper(ReadOnlySpan<float> weights, int rows, int columns)
    {
        var values = new sbyte[weights.Length];
        if (weights.Length != (long)rows * columns)
            throw new ArgumentException($"{rows} x {columns} weights need {(long)rows * columns} values, got {weights.Length}", nameof(weights));
        var gamma = TernaryQuantizer.QuantizePaper(weights, values);
        return FromValues(values, rows, columns, TernaryScheme.Paper, [gamma]);
    }

    /// <summary>Packs values already in {-1, 0, +1}.</summary>
    public static PackedTernaryMatrix FromValues(ReadOnlySpan<sbyte> values, int rows, int columns, TernaryScheme scheme, float[] scales)
    {
        var words = new uint[(long)rows * TernaryPacking.WordsPerRow(columns)];
        TernaryPacking.Pack(values, rows, columns, words);
        return new PackedTernaryMatrix(rows, columns, scheme, words, scales);
    }

    /// <summary>The values in {-1, 0, +1}, row-major <c>[Rows, Columns]</c>.</summary>
    public sbyte[] Unpack()
    {
        var values = new sbyte[(long)Rows * Columns];
        TernaryPacking.Unpack(Words, Rows, Columns, values);
        return values;
    }
}
