namespace Tritter.Text;

/// <summary>
/// The one id space: special tokens, then the text/code BPE range, then the image and audio codebook ranges, each
/// contiguous. Every id belongs to exactly one range.
/// </summary>
/// <param name="TextCount">Tokens in the text/code BPE range.</param>
/// <param name="ImageCount">Image codebook size.</param>
/// <param name="AudioCount">Audio codebook size.</param>
public sealed record VocabularyLayout(int TextCount, int ImageCount, int AudioCount)
{
    /// <summary>First id of the text/code range.</summary>
    public static int TextStart => SpecialTokens.Count;

    /// <summary>First id of the image range.</summary>
    public int ImageStart => TextStart + TextCount;

    /// <summary>First id of the audio range.</summary>
    public int AudioStart => ImageStart + ImageCount;

    /// <summary>Total ids: the model's vocabulary size.</summary>
    public int Size => AudioStart + AudioCount;

    /// <summary>The range <paramref name="id"/> belongs to; <c>null</c> for a special token.</summary>
    public Modality? ModalityOf(int id)
    {
        CheckId(id);
        if (id < TextStart)
            return null;
        if (id < ImageStart)
            return Modality.Text;
        return id < AudioStart ? Modality.Image : Modality.Audio;
    }

    /// <summary>Throws a clear error when <paramref name="id"/> is outside the vocabulary.</summary>
    public void CheckId(int id)
    {
        if ((uint)id >= (uint)Size)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary [0, {Size})");
    }
}
