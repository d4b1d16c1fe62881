using Tritter.Text.Code;

namespace Tritter.Tests.Text;

/// <summary>Function/class blocks for C#, Python and C-like sources on crafted files.</summary>
public sealed class CodeBlockSplitterTests
{
    private static List<string> Blocks(string source, SourceLanguage language) =>
        [.. CodeBlockSplitter.Split(source, language).Select(b => source.Substring(b.Start, b.Length))];

    [Test]
    public void Python_blocks_follow_top_level_defs_and_classes_with_decorators()
    {
        const string source = "import os\n\n@cache\ndef f(x):\n    \"\"\"Doc\nnot a header\n\"\"\"\n    return x\n\n# note\nclass C:\n    def m(self):\n        pass\n\n\nX = 1\nasync def g():\n    pass\n";
        var blocks = Blocks(source, SourceLanguage.Python);
        Assert.That(blocks, Is.EqualTo(new[]
        {
            "@cache\ndef f(x):\n    \"\"\"Doc\nnot a header\n\"\"\"\n    return x\n",
            "class C:\n    def m(self):\n        pass\n",
            "async def g():\n    pass\n",
        }));
    }

    [Test]
    public void CSharp_blocks_are_types_and_members_inside_namespaces()
    {
        const string source = "using System;\nnamespace N;\n\n/// <summary>Doc.</summary>\npublic class A\n{\n    void M() { }\n}\n\ninternal record R(int X);\npublic enum E { One }\n";
        var blocks = CodeBlockSplitter.Split(source, SourceLanguage.CSharp);
        Assert.That(blocks.Select(b => b.Kind), Is.EqualTo(new[] { "class", "class", "type" }));
        Assert.That(source.Substring(blocks[0].Start, blocks[0].Length), Does.Contain("/// <summary>Doc.</summary>\npublic class A"));
        Assert.That(blocks.Zip(blocks.Skip(1)).All(p => p.First.End <= p.Second.Start), Is.True);
    }

    [Test]
    public void Brace_blocks_ignore_braces_in_strings_and_comments()
    {
        const string source = "#include <stdio.h>\nint x = 1;\n\nstatic int f(int a)\n{\n    const char *s = \"}{\"; // }\n    /* { */ return a;\n}\nint g(void) {\n    return '}';\n}\n";
        var blocks = Blocks(source, SourceLanguage.C);
        Assert.That(blocks, Is.EqualTo(new[]
        {
            "static int f(int a)\n{\n    const char *s = \"}{\"; // }\n    /* { */ return a;\n}\n",
            "int g(void) {\n    return '}';\n}\n",
        }));
    }

    [Test]
    public void Languages_without_a_method_have_no_blocks() =>
        Assert.That(CodeBlockSplitter.Split("# Title\n\nText {\n}\n", SourceLanguage.Markdown), Is.Empty);
}
