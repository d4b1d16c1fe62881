using System.CommandLine;
using Tritter.Text;

namespace Tritter.Cli.Commands;

/// <summary>The options that pick and size a tokenizer, shared by <c>curate</c> and the <c>tokenizer</c> commands.</summary>
internal static class TokenizerOptions
{
    public static Option<int> ImageCodes() => new("--image-codes")
    {
        Description = "Size of the image codebook range placed after the text tokens.",
        DefaultValueFactory = _ => CodebookSizes.Default.Image,
    };

    public static Option<int> AudioCodes() => new("--audio-codes")
    {
        Description = "Size of the audio codebook range placed after the image range.",
        DefaultValueFactory = _ => CodebookSizes.Default.Audio,
    };

    /// <summary>Loads "cl100k_base", "o200k_base" or a tokenizer.json path; bad input becomes a <see cref="CliUsageException"/>.</summary>
    public static MultiModalTokenizer Load(string specifier, int imageCodes, int audioCodes)
    {
        if (imageCodes < 0 || audioCodes < 0)
            throw new CliUsageException("--image-codes and --audio-codes must not be negative");
        var codebooks = new CodebookSizes(imageCodes, audioCodes);
        if (specifier is "cl100k_base" or "o200k_base")
            return MultiModalTokenizer.FromTiktoken(specifier, codebooks);
        if (!File.Exists(specifier))
            throw new CliUsageException($"tokenizer '{specifier}' is neither cl100k_base, o200k_base nor an existing tokenizer.json");
        return MultiModalTokenizer.Load(specifier, codebooks);
    }
}
