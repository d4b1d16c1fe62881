using Tritter.Data.Curation;
using Tritter.Text.Code;

namespace Tritter.Tests.Data;

/// <summary>The walker honours .gitignore files and skips vendored directories; languages come from extensions and shebangs.</summary>
public sealed class SourceTreeWalkerTests
{
    [Test]
    public void Walk_honours_gitignore_and_skips_vendored_directories()
    {
        using var tree = new TempTree();
        tree.Write(".gitignore", "# comment\n*.log\n!keep.log\ntmpout/\n/anchored.txt\ndocs/**/secret.md\n");
        foreach (var file in new[] { "a.py", "x.log", "keep.log", "anchored.txt", "src/anchored.txt", "tmpout/o.py", "src/tmpout/o.py", "docs/a/b/secret.md",
                     "docs/readme.md", "node_modules/m.js", "pkg/__pycache__/c.py", "pkg/.git/config", "lib/vendor/v.c", "lib/main.c" })
            tree.Write(file, "x = 1\n");
        tree.Write("lib/.gitignore", "*.c\n!main.c\n");
        tree.Write("lib/extra.c", "int x;\n");
        var found = SourceTreeWalker.Walk(tree.Root).Select(f => f.RelativePath).ToList();
        Assert.That(found, Is.EqualTo(new[] { "a.py", "keep.log", "docs/readme.md", "lib/main.c", "src/anchored.txt" }), "files before subdirectories, each in ordinal order");
    }

    [Test]
    public void Missing_input_directory_is_a_clear_error() =>
        Assert.That(() => SourceTreeWalker.Walk("/no/such/dir").ToList(), Throws.TypeOf<DirectoryNotFoundException>().With.Message.Contains("/no/such/dir"));

    [TestCase("a/b.py", SourceLanguage.Python)]
    [TestCase("X.CS", SourceLanguage.CSharp)]
    [TestCase("k.cu", SourceLanguage.Cuda)]
    [TestCase("Makefile", SourceLanguage.Unknown)]
    public void Language_from_extension(string path, SourceLanguage expected) =>
        Assert.That(LanguageDetector.FromPath(path), Is.EqualTo(expected));

    [TestCase("#!/usr/bin/env python3\nprint(1)\n", SourceLanguage.Python)]
    [TestCase("#!/usr/bin/python3.11 -u\n", SourceLanguage.Python)]
    [TestCase("#!/bin/bash\necho\n", SourceLanguage.Shell)]
    [TestCase("#!/usr/bin/env -S node --flag\n", SourceLanguage.JavaScript)]
    [TestCase("print(1)\n", SourceLanguage.Unknown)]
    public void Language_from_shebang(string head, SourceLanguage expected) =>
        Assert.That(LanguageDetector.FromShebang(System.Text.Encoding.UTF8.GetBytes(head)), Is.EqualTo(expected));
}
