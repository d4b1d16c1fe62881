namespace Tritter.Data.Curation;

/// <summary>
/// Enumerates the files of a source tree lazily, in a stable (ordinal) order: it honours every <c>.gitignore</c> on
/// the way down, skips version-control, vendored, dependency, build-output and cache directories, and never follows
/// symbolic links (so a link cycle cannot trap it).
/// </summary>
public static class SourceTreeWalker
{
    /// <summary>Directory names never entered: version control, vendored and third-party code, caches, build outputs.</summary>
    public static IReadOnlySet<string> SkippedDirectories { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        ".git", ".hg", ".svn", ".idea", ".vs", ".vscode", "node_modules", "bower_components", "vendor", "vendored",
        "third_party", "thirdparty", "third-party", "external", "site-packages", "dist-packages", "__pycache__",
        ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache", ".gradle", "bin", "obj", "target", "build", "dist",
        "out", "_build", "generated", ".next", "Pods", "packages",
    };

    /// <summary>The files under <paramref name="root"/> that are not ignored.</summary>
    public static IEnumerable<SourceFile> Walk(string root, CancellationToken cancellationToken = default)
    {
        var rootInfo = new DirectoryInfo(root);
        if (!rootInfo.Exists)
            throw new DirectoryNotFoundException($"input directory '{root}' does not exist");
        var pending = new Stack<(DirectoryInfo Directory, string Relative, List<(string Base, GitIgnoreRules Rules)> Ignores)>();
        pending.Push((rootInfo, "", []));
        while (pending.TryPop(out var current))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ignores = current.Ignores;
            var gitignore = Path.Combine(current.Directory.FullName, ".gitignore");
            if (File.Exists(gitignore))
                ignores = [.. ignores, (current.Relative, new GitIgnoreRules(File.ReadAllText(gitignore)))];
            FileSystemInfo[] entries;
            try
            {
                entries = current.Directory.GetFileSystemInfos();
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            Array.Sort(entries, (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirectories = new List<(DirectoryInfo, string, List<(string, GitIgnoreRules)>)>();
            foreach (var entry in entries)
            {
                if (entry.LinkTarget is not null)
                    continue;
                var relative = current.Relative.Length == 0 ? entry.Name : current.Relative + "/" + entry.Name;
                var isDirectory = entry is DirectoryInfo;
                if (isDirectory && SkippedDirectories.Contains(entry.Name))
                    continue;
                if (IsIgnored(ignores, relative, isDirectory))
                    continue;
                if (entry is DirectoryInfo directory)
                    subdirectories.Add((directory, relative, ignores));
                else if (entry is FileInfo file && entry.Name != ".gitignore")
                    yield return new SourceFile(file.FullName, relative, file.Length);
            }
            for (var i = subdirectories.Count - 1; i >= 0; i--)
                pending.Push(subdirectories[i]);
        }
    }

    // Deeper .gitignore files override shallower ones, so the last file with an opinion wins.
    private static bool IsIgnored(List<(string Base, GitIgnoreRules Rules)> ignores, string relative, bool isDirectory)
    {
        for (var i = ignores.Count - 1; i >= 0; i--)
        {
            var (baseDirectory, rules) = ignores[i];
            var local = baseDirectory.Length == 0 ? relative : relative[(baseDirectory.Length + 1)..];
            if (rules.Match(local, isDirectory) is { } ignored)
                return ignored;
        }
        return false;
    }
}
