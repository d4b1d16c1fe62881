using System.Text;
using Microsoft.ML.Tokenizers;
using Tritter.Text.Bpe;
using Tritter.Text.Code;

namespace Tritter.Text;

/// <summary>
/// The one tokenizer of every modality. Text and code go through a byte-level BPE (Microsoft.ML.Tokenizers' BPE for
/// a trained <c>tokenizer.json</c>, or its tiktoken for <c>cl100k_base</c>/<c>o200k_base</c>), so any byte string
/// round-trips exactly; image and audio codebook indices map into their own contiguous ranges. See
/// <see cref="VocabularyLayout"/> for the id space. Thread-safe.
/// </summary>
public sealed class MultiModalTokenizer
{
    private readonly ByteLevelCodec _codec;

    private MultiModalTokenizer(ByteLevelCodec codec, CodebookSizes codebooks)
    {
        _codec = codec;
        Layout = new VocabularyLayout(codec.Count, codebooks.Image, codebooks.Audio);
    }

    /// <summary>Where each modality's ids lie.</summary>
    public VocabularyLayout Layout { get; }

    /// <summary>A tokenizer over <paramref name="model"/> (for example one just trained), built through Microsoft.ML.Tokenizers' BPE.</summary>
    public static MultiModalTokenizer FromModel(ByteLevelBpeModel model, CodebookSizes codebooks)
    {
        ArgumentNullException.ThrowIfNull(model);
        var strings = HuggingFaceTokenizerFile.TokenStrings(model);
        var vocabulary = new Dictionary<string, int>(strings.Length, StringComparer.Ordinal);
        for (var local = 0; local < strings.Length; local++)
            vocabulary[strings[local]] = SpecialTokens.Count + local;
        var options = new BpeOptions(vocabulary)
        {
            Merges = [.. model.Merges.Select(m => HuggingFaceTokenizerFile.MergeLine(strings, m))],
            ByteLevel = true,
            PreTokenizer = CodePreTokenizer.Instance,
        };
        return new MultiModalTokenizer(new ByteLevelCodec(BpeTokenizer.Create(options), 0, model.Tokens), codebooks);
    }

    /// <summary>Loads a byte-level BPE <c>tokenizer.json</c> (see <see cref="HuggingFaceTokenizerFile"/>).</summary>
    public static MultiModalTokenizer Load(string tokenizerJsonPath, CodebookSizes codebooks) =>
        FromModel(HuggingFaceTokenizerFile.Read(tokenizerJsonPath), codebooks);

    /// <summary>
    /// A tokenizer over a pretrained tiktoken vocabulary (<c>cl100k_base</c> or <c>o200k_base</c>), loaded offline
    /// from the Microsoft.ML.Tokenizers data packages. Its ranks are shifted up past the special tokens, and its own
    /// special tokens (such as <c>&lt;|endoftext|&gt;</c>) are not used: such text is encoded as plain bytes.
    /// </summary>
    public static MultiModalTokenizer FromTiktoken(string encodingName, CodebookSizes codebooks)
    {
        var pretrained = TiktokenTokenizer.CreateForEncoding(encodingName);
        var ranksFile = TiktokenRanksFile.ReadEmbedded(encodingName);
        // Rebuilt from the ranks alone, without special tokens, so text such as "<|endoftext|>" cannot produce an id
        // outside the text range.
        using var stream = new MemoryStream(ranksFile.Contents);
        var plain = TiktokenTokenizer.Create(stream, pretrained.PreTokenizer, normalizer: null, specialTokens: null);
        return new MultiModalTokenizer(new ByteLevelCodec(plain, SpecialTokens.Count, ranksFile.TokenBytes), codebooks);
    }

    /// <summary>The text-range ids of <paramref name="bytes"/>, without markers; exact for any bytes, valid UTF-8 or not.</summary>
    public int[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        var ids = new List<int>(bytes.Length / 3 + 1);
        _codec.Encode(bytes, ids);
        return [.. ids];
    }

    /// <summary>
    /// Encodes <paramref name="text"/> (as UTF-8) as a span of <paramref name="modality"/>: its begin marker, the BPE
    /// ids, its end marker. Code is split into function/class blocks by <paramref name="language"/> (see
    /// <see cref="CodeBlockSplitter"/>).
    /// </summary>
    public EncodedDocument Encode(string text, Modality modality, SourceLanguage language = SourceLanguage.Unknown)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Encode(text, modality, modality == Modality.Code ? CodeBlockSplitter.Split(text, language) : []);
    }

    /// <summary>
    /// Encodes <paramref name="text"/> with its <paramref name="blocks"/> already known: each block is encoded on its
    /// own, so no token straddles a block boundary, and the blocks' first tokens are reported.
    /// </summary>
    public EncodedDocument Encode(string text, Modality modality, IReadOnlyList<CodeBlock> blocks)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(blocks);
        if (modality is Modality.Image or Modality.Audio)
            throw new ArgumentException($"{modality} is encoded from codebook indices with {nameof(EncodeCodebook)}, not from text", nameof(modality));
        var (begin, end) = SpecialTokens.Markers(modality);
        var ids = new List<int>(text.Length / 3 + 2) { begin };
        var blockStarts = new List<int>(blocks.Count);
        var position = 0;
        foreach (var block in blocks)
        {
            EncodeText(text.AsSpan(position, block.Start - position), ids);
            blockStarts.Add(ids.Count);
            EncodeText(text.AsSpan(block.Start, block.Length), ids);
            position = block.End;
        }
        EncodeText(text.AsSpan(position), ids);
        ids.Add(end);
        return new EncodedDocument([.. ids], [.. blockStarts]);
    }

    /// <summary>Encodes many texts in parallel, in order.</summary>
    public IReadOnlyList<EncodedDocument> EncodeBatch(
        IReadOnlyList<string> texts, Modality modality, SourceLanguage language = SourceLanguage.Unknown, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new EncodedDocument[texts.Count];
        Parallel.For(0, texts.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => results[i] = Encode(texts[i], modality, language));
        return results;
    }

    /// <summary>
    /// A fill-in-the-middle training example in prefix-suffix-middle order:
    /// <c>&lt;fim_prefix&gt; prefix &lt;fim_suffix&gt; suffix &lt;fim_middle&gt; middle</c>.
    /// </summary>
    public int[] EncodeFillInTheMiddle(string prefix, string middle, string suffix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(middle);
        ArgumentNullException.ThrowIfNull(suffix);
        var ids = new List<int> { SpecialTokens.FimPrefix };
        EncodeText(prefix, ids);
        ids.Add(SpecialTokens.FimSuffix);
        EncodeText(suffix, ids);
        ids.Add(SpecialTokens.FimMiddle);
        EncodeText(middle, ids);
        return [.. ids];
    }

    /// <summary>An image or audio span: the begin marker, each codebook index moved into its range, the end marker.</summary>
    public int[] EncodeCodebook(ReadOnlySpan<int> codes, Modality modality)
    {
        var (start, count) = modality switch
        {
            Modality.Image => (Layout.ImageStart, Layout.ImageCount),
            Modality.Audio => (Layout.AudioStart, Layout.AudioCount),
            _ => throw new ArgumentException($"{modality} has no codebook; encode it as text", nameof(modality)),
        };
        var (begin, end) = SpecialTokens.Markers(modality);
        var ids = new int[codes.Length + 2];
        ids[0] = begin;
        for (var i = 0; i < codes.Length; i++)
        {
            if ((uint)codes[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(codes), codes[i], $"{modality} code {codes[i]} at position {i} is outside the codebook [0, {count})");
            ids[i + 1] = start + codes[i];
        }
        ids[^1] = end;
        return ids;
    }

    /// <summary>
    /// The exact bytes of the text-range ids in <paramref name="ids"/>, concatenated; special, image and audio ids
    /// contribute their <see cref="TokenName"/>. Throws for an id outside the vocabulary.
    /// </summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids)
        {
            if (Layout.ModalityOf(id) == Modality.Text)
                _codec.AppendBytes(id, bytes);
            else
                bytes.AddRange(Encoding.UTF8.GetBytes(TokenName(id)));
        }
        return [.. bytes];
    }

    /// <summary><see cref="DecodeBytes"/> read as UTF-8 (invalid sequences become U+FFFD; use <see cref="DecodeBytes"/> for exactness).</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>
    /// A readable name for <paramref name="id"/>: the special token's text, <c>&lt;image_N&gt;</c>/<c>&lt;audio_N&gt;</c>
    /// for codebook ids, and the byte-level spelling of a text token.
    /// </summary>
    public string TokenName(int id) => Layout.ModalityOf(id) switch
    {
        null => SpecialTokens.Names[id],
        Modality.Text => ByteLevelAlphabet.Encode(_codec.TokenBytes(id)),
        Modality.Image => $"<image_{id - Layout.ImageStart}>",
        _ => $"<audio_{id - Layout.AudioStart}>",
    };

    private void EncodeText(ReadOnlySpan<char> text, List<int> ids)
    {
        if (text.IsEmpty)
            return;
        var buffer = new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        var length = Encoding.UTF8.GetBytes(text, buffer);
        _codec.Encode(buffer.AsSpan(0, length), ids);
    }
}
