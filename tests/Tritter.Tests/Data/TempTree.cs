namespace Tritter.Tests.Data;

/// <summary>A temporary directory tree for one test, deleted afterwards.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"tritter-test-{Guid.NewGuid():N}");

    public string Write(string relativePath, string contents) => Write(relativePath, System.Text.Encoding.UTF8.GetBytes(contents));

    public string Write(string relativePath, byte[] contents)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, contents);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
