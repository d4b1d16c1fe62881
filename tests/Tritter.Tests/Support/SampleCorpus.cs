using System.Text;

namespace Tritter.Tests.Support;

/// <summary>Fresh, code-like documents for tokenizer and curation tests: random identifiers in Python/C shapes.</summary>
public static class SampleCorpus
{
    private static readonly string[] Keywords = ["def", "return", "if", "else", "for", "in", "while", "class", "import", "self", "None", "True"];

    /// <summary>A random identifier of 3 to 10 lowercase letters, sometimes snake_case.</summary>
    public static string Identifier(Random random)
    {
        var builder = new StringBuilder();
        var length = random.Next(3, 11);
        for (var i = 0; i < length; i++)
            builder.Append((char)('a' + random.Next(26)));
        if (random.Next(3) == 0)
            builder.Append('_').Append(Keywords[random.Next(Keywords.Length)]);
        return builder.ToString();
    }

    /// <summary>A Python-like module of <paramref name="functions"/> functions.</summary>
    public static string PythonModule(Random random, int functions)
    {
        var builder = new StringBuilder("import os\nimport sys\n\n");
        for (var f = 0; f < functions; f++)
        {
            var name = Identifier(random);
            builder.Append("def ").Append(name).Append("(self, ").Append(Identifier(random)).Append("):\n");
            builder.Append("    \"\"\"Return the ").Append(Identifier(random)).Append(" of ").Append(Identifier(random)).Append(".\"\"\"\n");
            for (var line = random.Next(2, 6); line > 0; line--)
            {
                builder.Append("    ").Append(Keywords[random.Next(Keywords.Length)]).Append(' ')
                    .Append(Identifier(random)).Append(" = ").Append(Identifier(random)).Append('(')
                    .Append(random.Next(1000)).Append(")\n");
            }
            builder.Append("    return ").Append(Identifier(random)).Append("\n\n\n");
        }
        return builder.ToString();
    }

    /// <summary><paramref name="count"/> Python-like modules.</summary>
    public static List<string> PythonModules(Random random, int count, int functions) =>
        [.. Enumerable.Range(0, count).Select(_ => PythonModule(random, functions))];
}
