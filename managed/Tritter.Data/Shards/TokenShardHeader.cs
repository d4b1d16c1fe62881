using System.Buffers.Binary;

namespace Tritter.Data.Shards;

/// <summary>
/// The 64-byte header of a token shard (docs/formats/token-shards.md), all little-endian: magic "TRTSHARD",
/// version, header size, vocabulary size, flags, document count, token count, index offset, XxHash3 checksum of
/// the token and index bytes, and 8 reserved bytes.
/// </summary>
internal readonly record struct TokenShardHeader(int VocabularySize, long DocumentCount, long TokenCount, ulong Checksum)
{
    public const int Size = 64;
    public const int CurrentVersion = 1;
    public static ReadOnlySpan<byte> Magic => "TRTSHARD"u8;

    /// <summary>Where the document index starts: right after the tokens.</summary>
    public long IndexOffset => Size + TokenCount * sizeof(int);

    /// <summary>The file size this header implies: header, tokens, and document count + 1 offsets.</summary>
    public long FileSize => IndexOffset + (DocumentCount + 1) * sizeof(long);

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], CurrentVersion);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], Size);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], VocabularySize);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], DocumentCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], TokenCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[40..], IndexOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[48..], Checksum);
    }

    /// <summary>Reads and checks a header against the file's length; the message of any failure names <paramref name="path"/>.</summary>
    public static TokenShardHeader Read(ReadOnlySpan<byte> source, long fileLength, string path)
    {
        if (fileLength < Size)
            throw Invalid(path, $"{fileLength} bytes is shorter than the {Size}-byte header (truncated?)");
        if (!source[..8].SequenceEqual(Magic))
            throw Invalid(path, "bad magic: not a Tritter token shard");
        var version = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        if (version != CurrentVersion)
            throw Invalid(path, $"format version {version}, this build reads version {CurrentVersion}");
        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        if (headerSize != Size)
            throw Invalid(path, $"header size {headerSize}, expected {Size}");
        var header = new TokenShardHeader(
            BinaryPrimitives.ReadInt32LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[48..]));
        if (header.VocabularySize <= 0 || header.DocumentCount < 0 || header.TokenCount is < 0 or > int.MaxValue)
            throw Invalid(path, $"header holds impossible counts (vocabulary {header.VocabularySize}, documents {header.DocumentCount}, tokens {header.TokenCount})");
        if (BinaryPrimitives.ReadInt64LittleEndian(source[40..]) != header.IndexOffset)
            throw Invalid(path, $"index offset {BinaryPrimitives.ReadInt64LittleEndian(source[40..])} does not follow {header.TokenCount} tokens (expected {header.IndexOffset})");
        if (fileLength != header.FileSize)
            throw Invalid(path, $"file is {fileLength} bytes but its header describes {header.FileSize} ({header.TokenCount} tokens, {header.DocumentCount} documents): truncated or padded");
        return header;
    }

    public static InvalidDataException Invalid(string path, string problem) => new($"{path}: {problem}");
}
