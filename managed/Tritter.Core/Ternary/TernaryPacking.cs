namespace Tritter.Core.Ternary;

/// <summary>
/// The packed ternary layout (docs/formats/ternary-packing.md): 2 bits per weight, 16 weights per little-endian 32-bit
/// word with weight <c>k</c> of a row at bits <c>2 (k mod 16)</c> of word <c>k / 16</c>; code 0b00 = 0, 0b01 = +1,
/// 0b10 = -1, 0b11 invalid; rows (output features) one after another, each padded with zero codes to a multiple of
/// <see cref="ColumnAlignment"/> weights.
/// </summary>
public static class TernaryPacking
{
    /// <summary>Weights per 32-bit word.</summary>
    public const int WeightsPerWord = 16;

    /// <summary>
    /// Every row's length is padded to a multiple of this many weights (16 bytes): the int8 kernel decodes 64 weights
    /// from one 16-byte load.
    /// </summary>
    public const int ColumnAlignment = 64;

    /// <summary>Code of 0.</summary>
    public const uint Zero = 0b00;

    /// <summary>Code of +1.</summary>
    public const uint Plus = 0b01;

    /// <summary>Code of -1.</summary>
    public const uint Minus = 0b10;

    /// <summary><paramref name="columns"/> rounded up to <see cref="ColumnAlignment"/>.</summary>
    public static int PaddedColumns(int columns) => checked((columns + ColumnAlignment - 1) / ColumnAlignment * ColumnAlignment);

    /// <summary>32-bit words per packed row.</summary>
    public static int WordsPerRow(int columns) => PaddedColumns(columns) / WeightsPerWord;

    /// <summary>Packs <paramref name="rows"/> x <paramref name="columns"/> values in {-1, 0, +1} into <paramref name="words"/>.</summary>
    public static void Pack(ReadOnlySpan<sbyte> values, int rows, int columns, Span<uint> words)
    {
        var wordsPerRow = WordsPerRow(columns);
        if (values.Length != (long)rows * columns || words.Length != (long)rows * wordsPerRow)
            throw new ArgumentException($"{rows} x {columns} weights need {(long)rows * columns} values and {(long)rows * wordsPerRow} words; got {values.Length} and {words.Length}");
        words.Clear();
        for (var r = 0; r < rows; r++)
        {
            var row = values.Slice(r * columns, columns);
            var packed = words.Slice(r * wordsPerRow, wordsPerRow);
            for (var k = 0; k < columns; k++)
            {
                var code = row[k] switch
                {
                    0 => Zero,
                    1 => Plus,
                    -1 => Minus,
                    var v => throw new ArgumentException($"weight [{r}, {k}] is {v}, not -1, 0 or +1", nameof(values)),
                };
                packed[k / WeightsPerWord] |= code << (2 * (k % WeightsPerWord));
            }
        }
    }

    /// <summary>
    /// Unpacks <paramref name="words"/> into values in {-1, 0, +1}. Code 0b11 and non-zero padding are
    /// <see cref="InvalidDataException"/>s that say where.
    /// </summary>
    public static void Unpack(ReadOnlySpan<uint> words, int rows, int columns, Span<sbyte> values)
    {
        var wordsPerRow = WordsPerRow(columns);
        if (values.Length != (long)rows * columns || words.Length != (long)rows * wordsPerRow)
            throw new ArgumentException($"{rows} x {columns} weights need {(long)rows * columns} values and {(long)rows * wordsPerRow} words; got {values.Length} and {words.Length}");
        Validate(words, rows, columns);
        for (var r = 0; r < rows; r++)
        {
            var packed = words.Slice(r * wordsPerRow, wordsPerRow);
            for (var k = 0; k < columns; k++)
            {
                var code = (packed[k / WeightsPerWord] >> (2 * (k % WeightsPerWord))) & 3;
                values[r * columns + k] = code == Plus ? (sbyte)1 : code == Minus ? (sbyte)-1 : (sbyte)0;
            }
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> at the first 0b11 code or non-zero padding code.</summary>
    public static void Validate(ReadOnlySpan<uint> words, int rows, int columns)
    {
        var wordsPerRow = WordsPerRow(columns);
        if (words.Length != (long)rows * wordsPerRow)
            throw new InvalidDataException($"{rows} x {columns} packed weights need {(long)rows * wordsPerRow} words, got {words.Length}");
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            // A code is 0b11 exactly where both bits of its pair are set.
            var invalid = word & (word >> 1) & 0x5555_5555u;
            var (row, firstColumn) = (i / wordsPerRow, i % wordsPerRow * WeightsPerWord);
            if (invalid != 0)
                throw new InvalidDataException($"packed ternary weight [{row}, {firstColumn + System.Numerics.BitOperations.TrailingZeroCount(invalid) / 2}] has the invalid code 0b11");
            var valid = Math.Clamp(columns - firstColumn, 0, WeightsPerWord);
            if (valid < WeightsPerWord && word >> (2 * valid) != 0)
                throw new InvalidDataException($"packed ternary row {row} has non-zero padding past column {columns}");
        }
    }
}
