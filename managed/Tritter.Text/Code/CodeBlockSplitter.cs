namespace Tritter.Text.Code;

/// <summary>
/// Splits a source file into its top-level function/class blocks: Roslyn for C#, indentation for Python, brace
/// matching for the C-like languages. Other languages have no blocks. The blocks are sorted and do not overlap; the
/// text between them (imports, top-level statements) belongs to no block.
/// </summary>
public static class CodeBlockSplitter
{
    /// <summary>The blocks of <paramref name="source"/>, written in <paramref name="language"/>.</summary>
    public static IReadOnlyList<CodeBlock> Split(string source, SourceLanguage language)
    {
        ArgumentNullException.ThrowIfNull(source);
        return language switch
        {
            SourceLanguage.CSharp => CSharpBlocks.Split(source),
            SourceLanguage.Python => IndentationBlocks.Split(source),
            SourceLanguage.C or SourceLanguage.Cpp or SourceLanguage.Cuda or SourceLanguage.Java or SourceLanguage.JavaScript
                or SourceLanguage.TypeScript or SourceLanguage.Go or SourceLanguage.Rust or SourceLanguage.Kotlin
                or SourceLanguage.Swift or SourceLanguage.Php or SourceLanguage.Scala => BraceBlocks.Split(source),
            _ => [],
        };
    }
}
