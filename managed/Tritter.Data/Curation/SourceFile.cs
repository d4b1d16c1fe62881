namespace Tritter.Data.Curation;

/// <summary>A file found by the walker.</summary>
/// <param name="FullPath">Absolute path.</param>
/// <param name="RelativePath">Path relative to the input root, with '/' separators.</param>
/// <param name="Length">Size in bytes.</param>
public sealed record SourceFile(string FullPath, string RelativePath, long Length);
