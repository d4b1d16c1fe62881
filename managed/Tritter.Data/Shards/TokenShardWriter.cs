using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Tritter.Data.Shards;

/// <summary>
/// Writes a token shard (docs/formats/token-shards.md) one document at a time. Everything goes to
/// <c>path + ".tmp"</c>; <see cref="Complete"/> writes the index and header, flushes to disk and renames, so a
/// crash or Ctrl-C never leaves a half-written shard under the real name. Disposing an incomplete writer deletes
/// the temporary file.
/// </summary>
public sealed class TokenShardWriter : IDisposable
{
    /// <summary>Most tokens one shard holds, so that a reader can view all of them as one span.</summary>
    public const long MaxTokens = int.MaxValue;

    private readonly string _path;
    private readonly string _temporaryPath;
    private readonly int _vocabularySize;
    private readonly FileStream _stream;
    private readonly XxHash3 _checksum = new();
    private readonly List<long> _offsets = [0];
    private bool _completed;

    /// <summary>Starts a shard at <paramref name="path"/> whose ids are all below <paramref name="vocabularySize"/>.</summary>
    public TokenShardWriter(string path, int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("token shards are written on little-endian machines only");
        _path = path;
        _temporaryPath = path + ".tmp";
        _vocabularySize = vocabularySize;
        _stream = new FileStream(_temporaryPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        _stream.Write(new byte[TokenShardHeader.Size]);
    }

    /// <summary>Tokens written so far.</summary>
    public long TokenCount => _offsets[^1];

    /// <summary>Documents written so far.</summary>
    public long DocumentCount => _offsets.Count - 1;

    /// <summary>Appends one document.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary, or the shard would exceed <see cref="MaxTokens"/>.</exception>
    public void Add(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (TokenCount + tokens.Length > MaxTokens)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{_path}: a shard holds at most {MaxTokens} tokens");
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)_vocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i], $"token {i} is outside the vocabulary [0, {_vocabularySize})");
        }
        var bytes = MemoryMarshal.AsBytes(tokens);
        _stream.Write(bytes);
        _checksum.Append(bytes);
        _offsets.Add(TokenCount + tokens.Length);
    }

    /// <summary>Writes the index and header, flushes to disk and renames the shard into place.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var index = MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_offsets));
        _stream.Write(index);
        _checksum.Append(index);
        Span<byte> header = stackalloc byte[TokenShardHeader.Size];
        new TokenShardHeader(_vocabularySize, DocumentCount, TokenCount, _checksum.GetCurrentHashAsUInt64()).Write(header);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_temporaryPath, _path, overwrite: false);
        _completed = true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_completed)
            return;
        _completed = true;
        _stream.Dispose();
        File.Delete(_temporaryPath);
    }
}
