namespace Tritter.Text.Code;

/// <summary>
/// Python blocks: a top-level <c>def</c>, <c>async def</c> or <c>class</c> (with its decorators) runs until the next
/// line that starts at column 0 and is neither blank, a comment, nor the inside of a multi-line string; trailing
/// blank and column-0 comment lines are left out of it.
/// </summary>
internal static class IndentationBlocks
{
    public static IReadOnlyList<CodeBlock> Split(string source)
    {
        var lines = LineStarts(source);
        var blocks = new List<CodeBlock>();
        var blockStart = -1;
        var blockKind = "";
        var inString = (string?)null;
        for (var i = 0; i < lines.Count; i++)
        {
            var start = lines[i];
            var end = i + 1 < lines.Count ? lines[i + 1] : source.Length;
            var line = source.AsSpan(start, end - start);
            var wasInString = inString is not null;
            inString = TripleQuoteState(line, inString);
            if (wasInString || line.IsWhiteSpace() || line[0] is ' ' or '\t' or '#')
                continue;
            var header = line.StartsWith("def ") || line.StartsWith("async def ") ? "function"
                : line.StartsWith("class ") ? "class"
                : line.StartsWith("@") ? "decorator"
                : null;
            if (blockStart >= 0 && blockKind != "decorator")
            {
                blocks.Add(new CodeBlock(blockStart, TrimTrailingBlankLines(source, blockStart, start), blockKind));
                blockStart = -1;
            }
            if (header is null)
                continue;
            if (blockStart < 0)
                blockStart = start;
            blockKind = header;
        }
        if (blockStart >= 0 && blockKind != "decorator")
            blocks.Add(new CodeBlock(blockStart, TrimTrailingBlankLines(source, blockStart, source.Length), blockKind));
        return blocks;
    }

    private static List<int> LineStarts(string source)
    {
        var starts = new List<int> { 0 };
        for (var i = source.IndexOf('\n'); i >= 0 && i + 1 < source.Length; i = source.IndexOf('\n', i + 1))
            starts.Add(i + 1);
        return starts;
    }

    // Tracks whether a line ends inside a ''' or """ string, so a docstring line at column 0 does not end a block.
    private static string? TripleQuoteState(ReadOnlySpan<char> line, string? open)
    {
        for (var i = 0; i + 2 < line.Length; i++)
        {
            if (open is null && line[i] == '#')
                return null;
            var quote = line[i..(i + 3)];
            if (open is null && (quote.SequenceEqual("\"\"\"") || quote.SequenceEqual("'''")))
            {
                open = quote.ToString();
                i += 2;
            }
            else if (open is not null && quote.SequenceEqual(open))
            {
                open = null;
                i += 2;
            }
        }
        return open;
    }

    // A block ends after its last line of code: blank lines and column-0 comments before the next top-level line
    // belong to what follows.
    private static int TrimTrailingBlankLines(string source, int start, int end)
    {
        var trimmed = end;
        while (trimmed > start)
        {
            var lineStart = source.LastIndexOf('\n', Math.Max(trimmed - 2, 0)) + 1;
            if (lineStart <= start)
                break;
            var line = source.AsSpan(lineStart, trimmed - lineStart);
            if (!line.IsWhiteSpace() && line[0] != '#')
                break;
            trimmed = lineStart;
        }
        return trimmed - start;
    }
}
