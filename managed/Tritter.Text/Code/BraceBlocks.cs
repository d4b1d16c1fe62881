namespace Tritter.Text.Code;

/// <summary>
/// Blocks of C-like languages: each brace pair opened at nesting depth 0 that spans lines, from the start of the
/// line where its statement began (after the previous top-level <c>;</c> or <c>}</c>) through the line that closes
/// it. Strings, character literals and comments are skipped so braces inside them do not count.
/// </summary>
internal static class BraceBlocks
{
    public static IReadOnlyList<CodeBlock> Split(string source)
    {
        var blocks = new List<CodeBlock>();
        var depth = 0;
        var statementStart = 0;
        var openAt = -1;
        var lastBlockEnd = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '/' && i + 1 < source.Length && source[i + 1] == '/')
            {
                i = EndOfLine(source, i) - 1;
            }
            else if (c == '/' && i + 1 < source.Length && source[i + 1] == '*')
            {
                var close = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = close < 0 ? source.Length : close + 1;
            }
            else if (c is '"' or '\'' or '`')
            {
                i = EndOfQuoted(source, i, c);
            }
            else if (c == '{')
            {
                if (depth++ == 0)
                    openAt = i;
            }
            else if (c == '}' && depth > 0)
            {
                if (--depth == 0)
                {
                    var end = EndOfLine(source, i);
                    var start = Math.Max(lastBlockEnd, LineStart(source, FirstNonSpace(source, statementStart, openAt)));
                    if (source.AsSpan(openAt, i - openAt).Contains('\n'))
                    {
                        blocks.Add(new CodeBlock(start, end - start, "block"));
                        lastBlockEnd = end;
                    }
                    statementStart = end;
                    i = end - 1;
                }
            }
            else if (c == ';' && depth == 0)
            {
                statementStart = i + 1;
            }
        }
        return blocks;
    }

    private static int EndOfQuoted(string source, int open, char quote)
    {
        for (var i = open + 1; i < source.Length; i++)
        {
            if (source[i] == '\\')
                i++;
            else if (source[i] == quote || (source[i] == '\n' && quote != '`'))
                return i;
        }
        return source.Length;
    }

    private static int EndOfLine(string source, int from)
    {
        var newline = source.IndexOf('\n', from);
        return newline < 0 ? source.Length : newline + 1;
    }

    private static int FirstNonSpace(string source, int from, int limit)
    {
        while (from < limit && char.IsWhiteSpace(source[from]))
            from++;
        return from;
    }

    private static int LineStart(string source, int position) =>
        position == 0 ? 0 : source.LastIndexOf('\n', position - 1) + 1;
}
