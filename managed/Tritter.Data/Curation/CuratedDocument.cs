using Tritter.Text.Code;

namespace Tritter.Data.Curation;

/// <summary>A file that passed every stage, ready for the JSONL record and the token shard.</summary>
/// <param name="Text">The text (redacted if secrets were redacted).</param>
/// <param name="Language">Detected language.</param>
/// <param name="RelativePath">Path relative to the input root.</param>
/// <param name="License">SPDX id, or "unknown".</param>
/// <param name="Quality">Quality score in [0, 1].</param>
/// <param name="Blocks">Function/class blocks of the text.</param>
/// <param name="Tokens">Token ids, when a tokenizer was given.</param>
/// <param name="Bytes">Size of the input file in bytes.</param>
public sealed record CuratedDocument(
    string Text, SourceLanguage Language, string RelativePath, string License, double Quality, IReadOnlyList<CodeBlock> Blocks, int[]? Tokens, long Bytes);
