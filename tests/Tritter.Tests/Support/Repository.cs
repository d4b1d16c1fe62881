namespace Tritter.Tests.Support;

/// <summary>The checkout the tests were built from, for tests that read its files.</summary>
internal static class Repository
{
    /// <summary>The directory holding <c>Tritter.sln</c>, found above the test binaries.</summary>
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tritter.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("tests must run inside the repository (Tritter.sln not found above the test binaries)");
    }
}
