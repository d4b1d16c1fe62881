using System.IO.Hashing;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Tritter.Data.Curation;

/// <summary>
/// MinHash signatures of a text's set of word 5-grams ("shingles"): for each of <see cref="Permutations"/> hash
/// functions <c>h_i(x) = mix(a_i x + b_i)</c> (32-bit, fixed seeds so signatures are comparable across runs), the
/// minimum over the shingles. Two signatures agree in a position with probability equal to the Jaccard similarity
/// of the shingle sets. The inner loop is vectorised over the permutations.
/// </summary>
public sealed class MinHasher
{
    /// <summary>Words per shingle.</summary>
    public const int ShingleWords = 5;

    private readonly uint[] _multipliers;
    private readonly uint[] _offsets;

    /// <summary>A hasher with <paramref name="permutations"/> hash functions (a multiple of the vector width).</summary>
    public MinHasher(int permutations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permutations, 1);
        if (permutations % Vector<uint>.Count != 0)
            throw new ArgumentOutOfRangeException(nameof(permutations), permutations, $"must be a multiple of {Vector<uint>.Count}");
        Permutations = permutations;
        var random = new Random(0x7417);
        _multipliers = [.. Enumerable.Range(0, permutations).Select(_ => (uint)random.Next() | 1u)];
        _offsets = [.. Enumerable.Range(0, permutations).Select(_ => (uint)random.Next())];
    }

    /// <summary>Signature length.</summary>
    public int Permutations { get; }

    /// <summary>The signature of <paramref name="text"/>; a text with fewer words than a shingle has one shingle of all of them.</summary>
    public uint[] Signature(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var signature = new uint[Permutations];
        Array.Fill(signature, uint.MaxValue);
        var words = WordHashes(text);
        var shingles = Math.Max(1, words.Count - ShingleWords + 1);
        for (var s = 0; s < shingles; s++)
        {
            ulong shingle = 0;
            for (var w = s; w < Math.Min(words.Count, s + ShingleWords); w++)
                shingle = BitOperations.RotateLeft(shingle, 11) ^ words[w];
            Update(signature, (uint)(shingle ^ (shingle >> 32)));
        }
        return signature;
    }

    /// <summary>The fraction of positions where two signatures agree: the estimated Jaccard similarity.</summary>
    public static double Similarity<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        where T : IEquatable<T>
    {
        var equal = 0;
        for (var i = 0; i < a.Length; i++)
            equal += a[i].Equals(b[i]) ? 1 : 0;
        return (double)equal / a.Length;
    }

    private void Update(uint[] signature, uint shingle)
    {
        var x = new Vector<uint>(shingle);
        var mins = MemoryMarshal.Cast<uint, Vector<uint>>(signature.AsSpan());
        var multipliers = MemoryMarshal.Cast<uint, Vector<uint>>(_multipliers);
        var offsets = MemoryMarshal.Cast<uint, Vector<uint>>(_offsets);
        for (var i = 0; i < mins.Length; i++)
        {
            var h = multipliers[i] * x + offsets[i];
            // Multiply-add alone leaves the low bits depending only on the low bits of x; the xor-shift mixes the
            // high bits back down.
            h ^= h >> 15;
            h *= new Vector<uint>(0x2C1B3C6Du);
            h ^= h >> 12;
            mins[i] = Vector.Min(mins[i], h);
        }
    }

    private static List<ulong> WordHashes(string text)
    {
        var hashes = new List<ulong>(text.Length / 5);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isWord = i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_');
            if (isWord && start < 0)
                start = i;
            else if (!isWord && start >= 0)
            {
                hashes.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text.AsSpan(start, i - start))));
                start = -1;
            }
        }
        return hashes;
    }
}
