using System.Text;
using System.Text.RegularExpressions;

namespace Tritter.Data.Curation;

/// <summary>
/// The patterns of one <c>.gitignore</c>, matched as git does: blank lines and <c>#</c> comments are skipped,
/// <c>!</c> re-includes, a trailing <c>/</c> matches directories only, a pattern with a <c>/</c> before its end is
/// anchored to the <c>.gitignore</c>'s directory (otherwise it matches a name at any depth), and <c>*</c>, <c>?</c>,
/// <c>[...]</c> and <c>**</c> are globs. The last matching pattern decides.
/// </summary>
public sealed class GitIgnoreRules
{
    private readonly List<(Regex Pattern, bool Negated, bool DirectoryOnly)> _rules = [];

    /// <summary>Parses the text of a <c>.gitignore</c>.</summary>
    public GitIgnoreRules(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (!line.EndsWith("\\ ", StringComparison.Ordinal))
                line = line.TrimEnd(' ');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var negated = line[0] == '!';
            if (negated || line.StartsWith("\\#", StringComparison.Ordinal) || line.StartsWith("\\!", StringComparison.Ordinal))
                line = line[1..];
            var directoryOnly = line.EndsWith('/');
            line = line.TrimEnd('/');
            if (line.Length == 0)
                continue;
            var anchored = line.Contains('/', StringComparison.Ordinal);
            line = line.TrimStart('/');
            var regex = (anchored ? "^" : "^(?:.*/)?") + GlobToRegex(line) + "$";
            _rules.Add((new Regex(regex, RegexOptions.CultureInvariant), negated, directoryOnly));
        }
    }

    /// <summary>
    /// Whether <paramref name="relativePath"/> (relative to the <c>.gitignore</c>'s directory, '/' separators) is
    /// ignored (<c>true</c>), re-included (<c>false</c>) or not mentioned (<c>null</c>).
    /// </summary>
    public bool? Match(string relativePath, bool isDirectory)
    {
        bool? result = null;
        foreach (var (pattern, negated, directoryOnly) in _rules)
        {
            if ((!directoryOnly || isDirectory) && pattern.IsMatch(relativePath))
                result = !negated;
        }
        return result;
    }

    private static string GlobToRegex(string glob)
    {
        var regex = new StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                var slashAfter = i + 2 < glob.Length && glob[i + 2] == '/';
                regex.Append(slashAfter ? "(?:.*/)?" : ".*");
                i += slashAfter ? 2 : 1;
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else if (c == '[' && glob.IndexOf(']', i + 1) is var close && close > i + 1)
            {
                var set = glob[(i + 1)..close];
                regex.Append('[').Append(set[0] == '!' ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = close;
            }
            else if (c == '\\' && i + 1 < glob.Length)
            {
                regex.Append(Regex.Escape(glob[++i].ToString()));
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }
        return regex.ToString();
    }
}
