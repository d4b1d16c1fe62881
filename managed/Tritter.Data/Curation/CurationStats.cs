using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tritter.Data.Curation;

/// <summary>Files and bytes of one category (a drop reason or a language).</summary>
public sealed class FileCount
{
    private long _files;
    private long _bytes;

    /// <summary>Files.</summary>
    public long Files => Interlocked.Read(ref _files);

    /// <summary>Bytes.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    internal void Add(long bytes)
    {
        Interlocked.Increment(ref _files);
        Interlocked.Add(ref _bytes, bytes);
    }
}

/// <summary>The counts of a curation run, updated from many threads, written as <c>stats.json</c> and a summary.</summary>
public sealed class CurationStats
{
    private long _filesIn;
    private long _bytesIn;
    private long _tokens;

    /// <summary>Files seen.</summary>
    public long FilesIn => Interlocked.Read(ref _filesIn);

    /// <summary>Bytes of the files seen.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Tokens written to shards.</summary>
    public long Tokens => Interlocked.Read(ref _tokens);

    /// <summary>Kept files and bytes.</summary>
    public FileCount Kept { get; } = new();

    /// <summary>Dropped files and bytes by <see cref="DropReasons"/> value.</summary>
    public ConcurrentDictionary<string, FileCount> Dropped { get; } = new(StringComparer.Ordinal);

    /// <summary>Kept files and bytes by language.</summary>
    public ConcurrentDictionary<string, FileCount> KeptLanguages { get; } = new(StringComparer.Ordinal);

    /// <summary>Wall-clock time of the run.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Worker threads used.</summary>
    public int Threads { get; set; }

    /// <summary>Files written (JSONL and shards), relative to the output directory.</summary>
    public List<string> Outputs { get; } = [];

    internal void Count(SourceFile file, CurationOutcome outcome)
    {
        Interlocked.Increment(ref _filesIn);
        Interlocked.Add(ref _bytesIn, file.Length);
        if (outcome.Document is { } document)
        {
            Kept.Add(file.Length);
            KeptLanguages.GetOrAdd(document.Language.ToString().ToLowerInvariant(), _ => new FileCount()).Add(file.Length);
            if (document.Tokens is { } tokens)
                Interlocked.Add(ref _tokens, tokens.Length);
        }
        else
        {
            Dropped.GetOrAdd(outcome.DropReason!, _ => new FileCount()).Add(file.Length);
        }
    }

    /// <summary>Throughput in MB/s (10^6 bytes) over the whole run.</summary>
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesIn / 1e6 / Elapsed.TotalSeconds : 0;

    /// <summary>The statistics as indented JSON.</summary>
    public string ToJson()
    {
        var shape = new
        {
            filesIn = FilesIn,
            bytesIn = BytesIn,
            kept = new { files = Kept.Files, bytes = Kept.Bytes },
            dropped = Dropped.OrderByDescending(p => p.Value.Files).ToDictionary(p => p.Key, p => new { files = p.Value.Files, bytes = p.Value.Bytes }),
            languages = KeptLanguages.OrderByDescending(p => p.Value.Bytes).ToDictionary(p => p.Key, p => new { files = p.Value.Files, bytes = p.Value.Bytes }),
            tokens = Tokens,
            seconds = Math.Round(Elapsed.TotalSeconds, 3),
            megabytesPerSecond = Math.Round(MegabytesPerSecond, 2),
            threads = Threads,
            outputs = Outputs,
        };
        return JsonSerializer.Serialize(shape, SerializerOptions);
    }

    /// <summary>The human summary: in, kept, dropped by reason, languages, tokens, throughput.</summary>
    public string ToSummary()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"in:      {FilesIn,9:N0} files {BytesIn / 1e6,10:F1} MB\n");
        text.Append(CultureInfo.InvariantCulture, $"kept:    {Kept.Files,9:N0} files {Kept.Bytes / 1e6,10:F1} MB\n");
        foreach (var (reason, count) in Dropped.OrderByDescending(p => p.Value.Files))
            text.Append(CultureInfo.InvariantCulture, $"dropped: {count.Files,9:N0} files {count.Bytes / 1e6,10:F1} MB  {reason}\n");
        foreach (var (language, count) in KeptLanguages.OrderByDescending(p => p.Value.Bytes))
            text.Append(CultureInfo.InvariantCulture, $"language:{count.Files,9:N0} files {count.Bytes / 1e6,10:F1} MB  {language}\n");
        if (Tokens > 0)
            text.Append(CultureInfo.InvariantCulture, $"tokens:  {Tokens:N0} ({(double)Kept.Bytes / Tokens:F2} bytes/token)\n");
        text.Append(CultureInfo.InvariantCulture, $"time:    {Elapsed.TotalSeconds:F1} s, {MegabytesPerSecond:F1} MB/s on {Threads} threads\n");
        return text.ToString();
    }

    private static readonly JsonSerializerOptions SerializerOptions = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}
