using Tritter.Text.Code;

namespace Tritter.Data.Curation;

/// <summary>Detects a file's language from its extension or well-known name, else from a <c>#!</c> line.</summary>
public static class LanguageDetector
{
    private static readonly Dictionary<string, SourceLanguage> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        [".py"] = SourceLanguage.Python,
        [".pyi"] = SourceLanguage.Python,
        [".pyw"] = SourceLanguage.Python,
        [".cs"] = SourceLanguage.CSharp,
        [".csx"] = SourceLanguage.CSharp,
        [".c"] = SourceLanguage.C,
        [".h"] = SourceLanguage.C,
        [".cc"] = SourceLanguage.Cpp,
        [".cpp"] = SourceLanguage.Cpp,
        [".cxx"] = SourceLanguage.Cpp,
        [".hpp"] = SourceLanguage.Cpp,
        [".hh"] = SourceLanguage.Cpp,
        [".hxx"] = SourceLanguage.Cpp,
        [".cu"] = SourceLanguage.Cuda,
        [".cuh"] = SourceLanguage.Cuda,
        [".java"] = SourceLanguage.Java,
        [".js"] = SourceLanguage.JavaScript,
        [".mjs"] = SourceLanguage.JavaScript,
        [".cjs"] = SourceLanguage.JavaScript,
        [".jsx"] = SourceLanguage.JavaScript,
        [".ts"] = SourceLanguage.TypeScript,
        [".tsx"] = SourceLanguage.TypeScript,
        [".go"] = SourceLanguage.Go,
        [".rs"] = SourceLanguage.Rust,
        [".kt"] = SourceLanguage.Kotlin,
        [".kts"] = SourceLanguage.Kotlin,
        [".swift"] = SourceLanguage.Swift,
        [".php"] = SourceLanguage.Php,
        [".scala"] = SourceLanguage.Scala,
        [".rb"] = SourceLanguage.Ruby,
        [".sh"] = SourceLanguage.Shell,
        [".bash"] = SourceLanguage.Shell,
        [".zsh"] = SourceLanguage.Shell,
        [".pl"] = SourceLanguage.Perl,
        [".pm"] = SourceLanguage.Perl,
        [".lua"] = SourceLanguage.Lua,
        [".sql"] = SourceLanguage.Sql,
        [".html"] = SourceLanguage.Html,
        [".htm"] = SourceLanguage.Html,
        [".css"] = SourceLanguage.Css,
        [".md"] = SourceLanguage.Markdown,
        [".markdown"] = SourceLanguage.Markdown,
        [".rst"] = SourceLanguage.RestructuredText,
        [".json"] = SourceLanguage.Json,
        [".yaml"] = SourceLanguage.Yaml,
        [".yml"] = SourceLanguage.Yaml,
        [".toml"] = SourceLanguage.Toml,
        [".xml"] = SourceLanguage.Xml,
        [".csproj"] = SourceLanguage.Xml,
        [".props"] = SourceLanguage.Xml,
        [".txt"] = SourceLanguage.Text,
    };

    private static readonly Dictionary<string, SourceLanguage> Interpreters = new(StringComparer.Ordinal)
    {
        ["python"] = SourceLanguage.Python,
        ["python3"] = SourceLanguage.Python,
        ["python2"] = SourceLanguage.Python,
        ["sh"] = SourceLanguage.Shell,
        ["bash"] = SourceLanguage.Shell,
        ["zsh"] = SourceLanguage.Shell,
        ["dash"] = SourceLanguage.Shell,
        ["node"] = SourceLanguage.JavaScript,
        ["ruby"] = SourceLanguage.Ruby,
        ["perl"] = SourceLanguage.Perl,
        ["lua"] = SourceLanguage.Lua,
        ["php"] = SourceLanguage.Php,
        ["dotnet-script"] = SourceLanguage.CSharp,
    };

    /// <summary>The language of <paramref name="path"/> from its extension alone; <see cref="SourceLanguage.Unknown"/> if none.</summary>
    public static SourceLanguage FromPath(string path) =>
        Extensions.TryGetValue(Path.GetExtension(path), out var language) ? language : SourceLanguage.Unknown;

    /// <summary>The language named by a <c>#!</c> first line (<c>#!/usr/bin/env python3</c>, <c>#!/bin/sh</c>).</summary>
    public static SourceLanguage FromShebang(ReadOnlySpan<byte> head)
    {
        if (!head.StartsWith("#!"u8))
            return SourceLanguage.Unknown;
        var end = head.IndexOfAny((byte)'\n', (byte)'\r');
        var line = System.Text.Encoding.UTF8.GetString(end < 0 ? head[2..] : head[2..end]);
        var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var interpreter = words.Length == 0 ? "" : Path.GetFileName(words[0]);
        if (interpreter == "env")
            interpreter = words.Skip(1).FirstOrDefault(w => !w.StartsWith('-')) ?? "";
        interpreter = interpreter.TrimEnd("0123456789.".ToCharArray()) is { Length: > 0 } trimmed && Interpreters.ContainsKey(trimmed) ? trimmed : interpreter;
        return Interpreters.GetValueOrDefault(interpreter, SourceLanguage.Unknown);
    }

    /// <summary>Whether <paramref name="language"/> is prose (encoded in text mode) rather than code.</summary>
    public static bool IsProse(SourceLanguage language) =>
        language is SourceLanguage.Markdown or SourceLanguage.RestructuredText or SourceLanguage.Text;
}
