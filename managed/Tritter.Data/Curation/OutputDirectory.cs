namespace Tritter.Data.Curation;

/// <summary>
/// Guards the output directory: a run starts only in a missing or empty directory, so a re-run never mixes with or
/// silently replaces an earlier one. With overwrite, the files an earlier run wrote are removed first.
/// </summary>
public static class OutputDirectory
{
    /// <summary>The name of the statistics file, written last: its presence marks a finished run.</summary>
    public const string StatsFile = "stats.json";

    /// <summary>The name of the human summary.</summary>
    public const string SummaryFile = "summary.txt";

    private static readonly string[] OwnPatterns = ["documents-*.jsonl", "documents-*.jsonl.tmp", "tokens-*.bin", "tokens-*.bin.tmp", StatsFile, SummaryFile];

    /// <summary>Creates or checks <paramref name="directory"/>; throws <see cref="IOException"/> with the reason when a run cannot start.</summary>
    public static void Prepare(string directory, bool overwrite)
    {
        if (File.Exists(directory))
            throw new IOException($"output '{directory}' is a file, not a directory");
        Directory.CreateDirectory(directory);
        if (overwrite)
        {
            foreach (var pattern in OwnPatterns)
            {
                foreach (var file in Directory.EnumerateFiles(directory, pattern))
                    File.Delete(file);
            }
        }
        if (!Directory.EnumerateFileSystemEntries(directory).Any())
            return;
        if (File.Exists(Path.Combine(directory, StatsFile)))
            throw new IOException($"output '{directory}' already holds a finished curation ({StatsFile}); choose another --out or pass --overwrite");
        var ours = OwnPatterns.Any(p => Directory.EnumerateFiles(directory, p).Any());
        throw new IOException(ours
            ? $"output '{directory}' holds an interrupted curation (no {StatsFile}); pass --overwrite to start again"
            : $"output '{directory}' is not empty and not a curation output; choose an empty directory");
    }
}
