using Tritter.Core.Ternary;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>The packed layout: the golden vector of docs/formats/ternary-packing.md, round trips and rejected codes.</summary>
public sealed class TernaryPackingTests
{
    /// <summary>The golden matrix of the format document: 2 x 20 weights.</summary>
    internal static readonly sbyte[] GoldenValues =
    [
        1, -1, 0, 1, 1, 1, -1, -1, 0, 0, 1, 0, -1, 0, 0, 1, -1, 1, 0, -1,
        0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1, 0, 1, -1, 0, 1, 0, 0, 0,
    ];

    /// <summary>Its packed words, as the format document lists them.</summary>
    internal static readonly uint[] GoldenWords =
    [
        0x4210A549, 0x00000086, 0x00000000, 0x00000000,
        0x24AA5500, 0x00000001, 0x00000000, 0x00000000,
    ];

    [Test]
    public void Golden_vector_packs_to_the_documented_words()
    {
        var words = new uint[8];
        TernaryPacking.Pack(GoldenValues, 2, 20, words);
        Assert.That(words.Select(w => $"0x{w:X8}"), Is.EqualTo(GoldenWords.Select(w => $"0x{w:X8}")));
        var values = new sbyte[40];
        TernaryPacking.Unpack(GoldenWords, 2, 20, values);
        Assert.That(values, Is.EqualTo(GoldenValues));
    }

    [TestCase(1, 1)]
    [TestCase(3, 63)]
    [TestCase(5, 64)]
    [TestCase(7, 65)]
    [TestCase(4, 333)]
    public void Random_values_round_trip(int rows, int columns)
    {
        var random = TestRandom.Create();
        var values = new sbyte[rows * columns];
        for (var i = 0; i < values.Length; i++)
            values[i] = (sbyte)random.Next(-1, 2);
        var matrix = PackedTernaryMatrix.FromValues(values, rows, columns, TernaryScheme.Paper, [0.5f]);
        Assert.That(matrix.WordsPerRow, Is.EqualTo((columns + 63) / 64 * 4));
        Assert.That(matrix.Unpack(), Is.EqualTo(values));
        // Independent decode of each weight from its word and bit position.
        for (var i = 0; i < values.Length; i++)
        {
            var (r, k) = (i / columns, i % columns);
            var code = (matrix.Words[r * matrix.WordsPerRow + k / 16] >> (2 * (k % 16))) & 3;
            Assert.That(code, Is.EqualTo(values[i] switch { 1 => 1u, -1 => 2u, _ => 0u }), $"weight [{r}, {k}]");
        }
    }

    [Test]
    public void Code_0b11_is_rejected_with_its_position()
    {
        var words = (uint[])GoldenWords.Clone();
        words[5] |= 0b11u << 6;
        Assert.That(() => new PackedTernaryMatrix(2, 20, TernaryScheme.Paper, words, [1f]),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("[1, 19]").And.Message.Contains("0b11"));
    }

    [Test]
    public void Nonzero_padding_is_rejected()
    {
        var words = (uint[])GoldenWords.Clone();
        words[2] = 0b01;
        Assert.That(() => new PackedTernaryMatrix(2, 20, TernaryScheme.Paper, words, [1f]),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("padding"));
    }

    [Test]
    public void Values_outside_minus_one_to_one_are_rejected()
    {
        Assert.That(() => TernaryPacking.Pack([0, 2], 1, 2, new uint[4]), Throws.ArgumentException.With.Message.Contains("[0, 1] is 2"));
    }
}
