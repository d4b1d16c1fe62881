using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace Tritter.Data.Curation;

/// <summary>One record of a curated corpus's JSONL files.</summary>
/// <param name="Text">The document text.</param>
/// <param name="Path">Its path relative to the curated tree.</param>
/// <param name="Language">Its language, lower case.</param>
public sealed record CuratedRecord(string Text, string Path, string Language);

/// <summary>
/// Reads a curation output's <c>documents-*.jsonl</c> files as a stream of records (one line in memory at a time),
/// and splits them deterministically into training and held-out sets by a hash of the path.
/// </summary>
public static class CuratedCorpus
{
    /// <summary>The records under <paramref name="directory"/>, file by file in name order.</summary>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="InvalidDataException">No JSONL files, or a line that is not a record (naming file and line).</exception>
    public static IEnumerable<CuratedRecord> Read(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"curated directory '{directory}' does not exist");
        var files = Directory.GetFiles(directory, "documents-*.jsonl").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new InvalidDataException($"'{directory}' has no documents-*.jsonl files; run 'tritter curate' first");
        return ReadFiles(files);
    }

    /// <summary>Whether the document at <paramref name="path"/> is held out: a fixed <paramref name="fraction"/> of paths by hash.</summary>
    public static bool IsHeldOut(string path, double fraction) =>
        XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(path)) < fraction * ulong.MaxValue;

    private static IEnumerable<CuratedRecord> ReadFiles(string[] files)
    {
        foreach (var file in files)
        {
            var lineNumber = 0;
            foreach (var line in File.ReadLines(file))
            {
                lineNumber++;
                if (line.Length == 0)
                    continue;
                CuratedRecord record;
                try
                {
                    using var json = JsonDocument.Parse(line);
                    var root = json.RootElement;
                    record = new CuratedRecord(
                        root.GetProperty("text").GetString()!, root.GetProperty("path").GetString()!, root.GetProperty("language").GetString()!);
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new InvalidDataException($"{file}:{lineNumber}: not a curated record ({e.Message})", e);
                }
                yield return record;
            }
        }
    }
}
