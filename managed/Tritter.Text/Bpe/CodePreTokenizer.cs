using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Tritter.Text.Bpe;

/// <summary>
/// The pre-tokenizer that training and encoding share, so merges are learned on exactly the pieces the encoder sees.
/// The pattern is cl100k's: letters with at most one leading non-letter, digits in groups of up to three, punctuation
/// runs, and whitespace runs that leave the last space to the next word. Every character class is covered, so the
/// pieces tile the input with no gaps.
/// </summary>
public static partial class CodePreTokenizer
{
    /// <summary>The regular expression, as written into <c>tokenizer.json</c>.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The shared Microsoft.ML.Tokenizers pre-tokenizer over <see cref="Pattern"/>.</summary>
    public static PreTokenizer Instance { get; } = new RegexPreTokenizer(PatternRegex(), specialTokens: null);

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex PatternRegex();
}
