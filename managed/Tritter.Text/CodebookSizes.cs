namespace Tritter.Text;

/// <summary>The image and audio codebook sizes: the configured lengths of the ranges after the text range.</summary>
/// <param name="Image">Image codebook entries.</param>
/// <param name="Audio">Audio codebook entries.</param>
public sealed record CodebookSizes(int Image, int Audio)
{
    /// <summary>No image or audio range: a text/code-only vocabulary.</summary>
    public static CodebookSizes None { get; } = new(0, 0);

    /// <summary>The defaults of the <c>tritter</c> commands: 8192 image codes and 4096 audio codes.</summary>
    public static CodebookSizes Default { get; } = new(8192, 4096);
}
