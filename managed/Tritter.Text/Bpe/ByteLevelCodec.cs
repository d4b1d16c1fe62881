using System.Collections.Concurrent;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Tritter.Text.Bpe;

/// <summary>
/// Byte-exact encoding and decoding around a Microsoft.ML.Tokenizers byte-level tokenizer. The library encodes a
/// .NET string (so only valid UTF-8 reaches it) and decodes to a string (so a token that ends inside a UTF-8
/// sequence decodes lossily). This wrapper does the minimum on top: valid UTF-8 runs go to the library; each byte of
/// an invalid sequence becomes its single-byte token; decoding concatenates each token's bytes. It also remembers
/// the ids of short pre-tokenised pieces: the library's own BPE runs at a few MB/s on code, and source code repeats
/// the same identifiers and indentation runs, so a piece cache makes encoding several times faster.
/// </summary>
internal sealed class ByteLevelCodec
{
    private readonly Tokenizer _tokenizer;
    private readonly int _idShift;
    private readonly byte[][] _tokenBytes;
    private readonly int[] _singleByteIds = new int[256];
    private readonly int _textStart;
    private readonly ConcurrentDictionary<string, int[]> _pieces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _pieceLookup;

    // Counted here because ConcurrentDictionary.Count takes every lock of the table: asked on each cache miss, it cost
    // more than the BPE encoding of the piece itself.
    private int _cachedPieces;

    // Bounds on the cache: pieces longer than this are rare and are encoded each time; past this many entries the
    // cache stops growing (a few hundred MB at most).
    private const int MaxCachedPieceLength = 32;
    private const int MaxCachedPieces = 1 << 21;

    /// <param name="tokenizer">Encodes valid text to ids; its ids plus <paramref name="idShift"/> are shared-vocabulary ids.</param>
    /// <param name="idShift">What to add to the library's ids.</param>
    /// <param name="tokenBytes">Each text token's bytes, by shared id minus <see cref="SpecialTokens.Count"/>.</param>
    public ByteLevelCodec(Tokenizer tokenizer, int idShift, IReadOnlyList<byte[]> tokenBytes)
    {
        _tokenizer = tokenizer;
        _idShift = idShift;
        _tokenBytes = [.. tokenBytes];
        _textStart = SpecialTokens.Count;
        _pieceLookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        Array.Fill(_singleByteIds, -1);
        for (var local = 0; local < _tokenBytes.Length; local++)
        {
            if (_tokenBytes[local].Length == 1)
                _singleByteIds[_tokenBytes[local][0]] = _textStart + local;
        }
        var missing = Array.IndexOf(_singleByteIds, -1);
        if (missing >= 0)
            throw new InvalidDataException($"the vocabulary has no token for byte 0x{missing:X2}, so not every byte string can be encoded");
    }

    /// <summary>Text tokens in the vocabulary.</summary>
    public int Count => _tokenBytes.Length;

    /// <summary>Appends the ids of <paramref name="bytes"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            EncodeValid(bytes, ids);
            return;
        }
        var runStart = 0;
        var position = 0;
        while (position < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes[position..], out _, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                position += consumed;
                continue;
            }
            EncodeValid(bytes[runStart..position], ids);
            for (var i = 0; i < consumed; i++)
                ids.Add(_singleByteIds[bytes[position + i]]);
            position += consumed;
            runStart = position;
        }
        EncodeValid(bytes[runStart..position], ids);
    }

    /// <summary>Appends the bytes of text token <paramref name="id"/> (a shared-vocabulary id in the text range).</summary>
    public void AppendBytes(int id, List<byte> bytes) => bytes.AddRange(_tokenBytes[id - _textStart]);

    /// <summary>The bytes of text token <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _tokenBytes[id - _textStart];

    private void EncodeValid(ReadOnlySpan<byte> utf8, List<int> ids)
    {
        if (utf8.IsEmpty)
            return;
        var text = Encoding.UTF8.GetString(utf8);
        foreach (var (offset, length) in _tokenizer.PreTokenizer!.PreTokenize(text))
        {
            var piece = text.AsSpan(offset, length);
            if (!_pieceLookup.TryGetValue(piece, out var pieceIds))
            {
                pieceIds = [.. _tokenizer.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false)];
                if (length <= MaxCachedPieceLength && Volatile.Read(ref _cachedPieces) < MaxCachedPieces && _pieceLookup.TryAdd(piece, pieceIds))
                    Interlocked.Increment(ref _cachedPieces);
            }
            foreach (var id in pieceIds)
                ids.Add(id + _idShift);
        }
    }
}
