using System.Buffers;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Tritter.Data.Shards;

/// <summary>
/// A token shard (docs/formats/token-shards.md), memory-mapped read-only. Opening validates everything the views
/// rely on (magic, version, sizes against the file length, the checksum, a monotonic index, ids inside the
/// vocabulary), so a truncated or corrupted shard fails here with a message naming the file, never later in
/// training.
/// </summary>
public sealed unsafe class TokenShard : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly MappedTokens _tokens;
    private readonly long* _offsets;
    private byte* _base;

    private TokenShard(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePointer, TokenShardHeader header)
    {
        FilePath = path;
        _file = file;
        _view = view;
        _base = basePointer;
        VocabularySize = header.VocabularySize;
        DocumentCount = header.DocumentCount;
        _tokens = new MappedTokens((int*)(basePointer + TokenShardHeader.Size), (int)header.TokenCount);
        _offsets = (long*)(basePointer + header.IndexOffset);
    }

    /// <summary>The shard's file.</summary>
    public string FilePath { get; }

    /// <summary>Every id in the shard is below this.</summary>
    public int VocabularySize { get; }

    /// <summary>Documents in the shard.</summary>
    public long DocumentCount { get; }

    /// <summary>Tokens in the shard, all documents together.</summary>
    public int TokenCount => _tokens.Length;

    /// <summary>All tokens, documents back to back.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.GetSpan();

    /// <summary>All tokens as memory (for storing in a sampler or passing to async code).</summary>
    public ReadOnlyMemory<int> TokenMemory => _tokens.Memory;

    /// <summary>Document start offsets into <see cref="Tokens"/>, plus the end: <see cref="DocumentCount"/> + 1 entries.</summary>
    public ReadOnlySpan<long> DocumentOffsets => new(_offsets, checked((int)(DocumentCount + 1)));

    /// <summary>The tokens of document <paramref name="index"/>.</summary>
    public ReadOnlySpan<int> Document(long index) => DocumentMemory(index).Span;

    /// <summary>The tokens of document <paramref name="index"/> as memory.</summary>
    public ReadOnlyMemory<int> DocumentMemory(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, DocumentCount);
        var start = (int)_offsets[index];
        return _tokens.Memory.Slice(start, (int)_offsets[index + 1] - start);
    }

    /// <summary>Every document in order.</summary>
    public IEnumerable<ReadOnlyMemory<int>> Documents()
    {
        for (long i = 0; i < DocumentCount; i++)
            yield return DocumentMemory(i);
    }

    /// <summary>Maps and validates the shard at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid shard; the message names it and the problem.</exception>
    public static TokenShard Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("token shards are read on little-endian machines only");
        TokenShardHeader header;
        long length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = stream.Length;
            Span<byte> bytes = stackalloc byte[TokenShardHeader.Size];
            stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            header = TokenShardHeader.Read(bytes, length, path);
        }
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* basePointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        var shard = new TokenShard(path, file, view, basePointer + view.PointerOffset, header);
        try
        {
            shard.Validate(header.Checksum);
            return shard;
        }
        catch
        {
            shard.Dispose();
            throw;
        }
    }

    private void Validate(ulong expectedChecksum)
    {
        var checksum = new XxHash3();
        checksum.Append(MemoryMarshal.AsBytes(Tokens));
        checksum.Append(MemoryMarshal.AsBytes(DocumentOffsets));
        if (checksum.GetCurrentHashAsUInt64() != expectedChecksum)
            throw TokenShardHeader.Invalid(FilePath, "checksum mismatch: the tokens or the index are corrupted");
        var offsets = DocumentOffsets;
        if (offsets[0] != 0 || offsets[^1] != TokenCount)
            throw TokenShardHeader.Invalid(FilePath, $"index runs from {offsets[0]} to {offsets[^1]}, expected 0 to {TokenCount}");
        for (var i = 1; i < offsets.Length; i++)
        {
            if (offsets[i] < offsets[i - 1])
                throw TokenShardHeader.Invalid(FilePath, $"index is not monotonic at document {i - 1} ({offsets[i - 1]} then {offsets[i]})");
        }
        var tokens = Tokens;
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabularySize)
                throw TokenShardHeader.Invalid(FilePath, $"token {i} is {tokens[i]}, outside the vocabulary [0, {VocabularySize})");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_base is null)
            return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>Lets the mapped tokens be <see cref="Memory{T}"/>, so documents can be sliced without copying.</summary>
    private sealed class MappedTokens(int* pointer, int length) : MemoryManager<int>
    {
        public int Length => length;

        public override Span<int> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
