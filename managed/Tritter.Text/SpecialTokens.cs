namespace Tritter.Text;

/// <summary>
/// The special tokens at the bottom of the id space. The first eight match the PyTorch reference (PAD 0 is the
/// embedding's padding id and the training loss ignores it); the rest close the modality spans and carry
/// fill-in-the-middle for code completion (prefix, suffix, middle: the PSM order).
/// </summary>
public static class SpecialTokens
{
    /// <summary>Padding; ignored by the loss.</summary>
    public const int Pad = 0;

    /// <summary>Beginning of sequence.</summary>
    public const int Bos = 1;

    /// <summary>End of sequence.</summary>
    public const int Eos = 2;

    /// <summary>Unknown; byte-level BPE never needs it, kept for the reference's id layout.</summary>
    public const int Unk = 3;

    /// <summary>Opens a text span.</summary>
    public const int TextBegin = 4;

    /// <summary>Opens a code span.</summary>
    public const int CodeBegin = 5;

    /// <summary>Opens an image span.</summary>
    public const int ImageBegin = 6;

    /// <summary>Opens an audio span.</summary>
    public const int AudioBegin = 7;

    /// <summary>Closes a text span.</summary>
    public const int TextEnd = 8;

    /// <summary>Closes a code span.</summary>
    public const int CodeEnd = 9;

    /// <summary>Closes an image span.</summary>
    public const int ImageEnd = 10;

    /// <summary>Closes an audio span.</summary>
    public const int AudioEnd = 11;

    /// <summary>Fill-in-the-middle: the code before the hole follows.</summary>
    public const int FimPrefix = 12;

    /// <summary>Fill-in-the-middle: the code after the hole follows.</summary>
    public const int FimSuffix = 13;

    /// <summary>Fill-in-the-middle: the hole's content follows (what the model learns to write).</summary>
    public const int FimMiddle = 14;

    /// <summary>The token text of each special id, as written into <c>tokenizer.json</c>'s <c>added_tokens</c>.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "<pad>", "<bos>", "<eos>", "<unk>", "<text>", "<code>", "<image>", "<audio>",
        "</text>", "</code>", "</image>", "</audio>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>",
    ];

    /// <summary>How many ids the special tokens take; the text range starts here.</summary>
    public static int Count => Names.Count;

    /// <summary>The ids that open and close a span of <paramref name="modality"/>.</summary>
    public static (int Begin, int End) Markers(Modality modality) => modality switch
    {
        Modality.Text => (TextBegin, TextEnd),
        Modality.Code => (CodeBegin, CodeEnd),
        Modality.Image => (ImageBegin, ImageEnd),
        Modality.Audio => (AudioBegin, AudioEnd),
        _ => throw new ArgumentOutOfRangeException(nameof(modality), modality, "unknown modality"),
    };
}
