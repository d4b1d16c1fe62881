namespace Tritter.Text.Bpe;

/// <summary>
/// GPT-2's byte-to-character mapping: every byte value has one printable character, so a token made of arbitrary
/// bytes (including invalid UTF-8) is a plain string in <c>tokenizer.json</c>. Printable ASCII and Latin-1 bytes map
/// to themselves; the rest map to U+0100 onwards (space becomes 'Ġ', newline 'Ċ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>The byte-level string of <paramref name="bytes"/>: one character per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                chars[i] = ByteToChar[source[i]];
        });
    }

    /// <summary>The bytes a byte-level string stands for; throws when a character is outside the alphabet.</summary>
    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
                throw new FormatException($"token '{token}' has character U+{(int)token[i]:X4}, which is not in the byte-level alphabet");
        }
        return bytes;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++)
            map[ByteToChar[b]] = (byte)b;
        return map;
    }
}
