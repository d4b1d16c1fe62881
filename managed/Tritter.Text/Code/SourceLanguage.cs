namespace Tritter.Text.Code;

/// <summary>The source languages the curation pipeline recognises; the block splitter picks its method from this.</summary>
public enum SourceLanguage
{
    /// <summary>Not recognised.</summary>
    Unknown,

    /// <summary>Python (blocks by indentation).</summary>
    Python,

    /// <summary>C# (blocks by Roslyn's syntax tree).</summary>
    CSharp,

    /// <summary>C.</summary>
    C,

    /// <summary>C++.</summary>
    Cpp,

    /// <summary>Java.</summary>
    Java,

    /// <summary>JavaScript.</summary>
    JavaScript,

    /// <summary>TypeScript.</summary>
    TypeScript,

    /// <summary>Go.</summary>
    Go,

    /// <summary>Rust.</summary>
    Rust,

    /// <summary>Kotlin.</summary>
    Kotlin,

    /// <summary>Swift.</summary>
    Swift,

    /// <summary>PHP.</summary>
    Php,

    /// <summary>Scala.</summary>
    Scala,

    /// <summary>CUDA C++.</summary>
    Cuda,

    /// <summary>Ruby.</summary>
    Ruby,

    /// <summary>Shell scripts (sh, bash, zsh).</summary>
    Shell,

    /// <summary>Perl.</summary>
    Perl,

    /// <summary>Lua.</summary>
    Lua,

    /// <summary>SQL.</summary>
    Sql,

    /// <summary>HTML.</summary>
    Html,

    /// <summary>CSS.</summary>
    Css,

    /// <summary>Markdown.</summary>
    Markdown,

    /// <summary>reStructuredText.</summary>
    RestructuredText,

    /// <summary>JSON.</summary>
    Json,

    /// <summary>YAML.</summary>
    Yaml,

    /// <summary>TOML.</summary>
    Toml,

    /// <summary>XML.</summary>
    Xml,

    /// <summary>Plain text.</summary>
    Text,
}
