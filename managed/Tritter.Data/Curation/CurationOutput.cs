using System.Text.Encodings.Web;
using System.Text.Json;
using Tritter.Data.Shards;
using Tritter.Text.Code;

namespace Tritter.Data.Curation;

/// <summary>
/// Writes kept documents: JSONL records (<c>documents-NNNNN.jsonl</c>) and, with a tokenizer, token shards
/// (<c>tokens-NNNNN.bin</c>), each rolled over at its size limit. Every file is written under a <c>.tmp</c> name
/// and renamed when complete, so an interrupted run leaves no half-written output under a real name. Used from one
/// thread.
/// </summary>
public sealed class CurationOutput : IDisposable
{
    private readonly string _directory;
    private readonly CurationOptions _options;
    private readonly int? _vocabularySize;
    private readonly List<string> _completed = [];
    private FileStream? _jsonlStream;
    private Utf8JsonWriter? _jsonl;
    private string _jsonlName = "";
    private TokenShardWriter? _shard;
    private int _jsonlIndex;
    private int _shardIndex;

    /// <summary>Output into <paramref name="directory"/>; shards only when <paramref name="vocabularySize"/> is given.</summary>
    public CurationOutput(string directory, CurationOptions options, int? vocabularySize)
    {
        _directory = directory;
        _options = options;
        _vocabularySize = vocabularySize;
    }

    /// <summary>Completed output files, relative to the directory.</summary>
    public IReadOnlyList<string> Completed => _completed;

    /// <summary>Appends one document's record and tokens.</summary>
    public void Write(CuratedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (_jsonl is null)
        {
            _jsonlName = $"documents-{_jsonlIndex++:D5}.jsonl";
            _jsonlStream = new FileStream(Path.Combine(_directory, _jsonlName + ".tmp"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            _jsonl = new Utf8JsonWriter(_jsonlStream, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
        WriteRecord(_jsonl, document);
        _jsonl.Flush();
        _jsonlStream!.WriteByte((byte)'\n');
        _jsonl.Reset();
        if (_jsonlStream.Length >= _options.BytesPerJsonlFile)
            CompleteJsonl();
        if (document.Tokens is { } tokens && _vocabularySize is { } vocabulary)
        {
            _shard ??= new TokenShardWriter(Path.Combine(_directory, $"tokens-{_shardIndex:D5}.bin"), vocabulary);
            _shard.Add(tokens);
            if (_shard.TokenCount >= _options.TokensPerShard)
                CompleteShard();
        }
    }

    /// <summary>Completes the open files (renaming them into place).</summary>
    public void Complete()
    {
        if (_jsonl is not null)
            CompleteJsonl();
        if (_shard is not null)
            CompleteShard();
    }

    /// <summary>Abandons the open files (their temporary names are deleted); completed files stay.</summary>
    public void Dispose()
    {
        if (_jsonl is not null)
        {
            _jsonl.Dispose();
            _jsonlStream!.Dispose();
            File.Delete(Path.Combine(_directory, _jsonlName + ".tmp"));
            _jsonl = null;
        }
        _shard?.Dispose();
        _shard = null;
    }

    private void CompleteJsonl()
    {
        _jsonl!.Dispose();
        _jsonlStream!.Flush(flushToDisk: true);
        _jsonlStream.Dispose();
        File.Move(Path.Combine(_directory, _jsonlName + ".tmp"), Path.Combine(_directory, _jsonlName));
        _completed.Add(_jsonlName);
        _jsonl = null;
    }

    private void CompleteShard()
    {
        _shard!.Complete();
        _completed.Add($"tokens-{_shardIndex++:D5}.bin");
        _shard = null;
    }

    private static void WriteRecord(Utf8JsonWriter json, CuratedDocument document)
    {
        json.WriteStartObject();
        json.WriteString("text", document.Text);
        json.WriteString("language", document.Language.ToString().ToLowerInvariant());
        json.WriteString("path", document.RelativePath);
        json.WriteString("license", document.License);
        json.WriteNumber("quality", document.Quality);
        json.WriteStartArray("blocks");
        foreach (var block in document.Blocks)
        {
            // Offsets in code points, as Python and most JSON consumers index strings.
            var start = CodePoints(document.Text, 0, block.Start);
            json.WriteStartObject();
            json.WriteNumber("start", start);
            json.WriteNumber("length", CodePoints(document.Text, block.Start, block.End));
            json.WriteString("kind", block.Kind);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (document.Tokens is { } tokens)
            json.WriteNumber("tokens", tokens.Length);
        json.WriteEndObject();
    }

    private static int CodePoints(string text, int from, int to)
    {
        var count = to - from;
        for (var i = from; i < to; i++)
        {
            if (char.IsLowSurrogate(text[i]))
                count--;
        }
        return count;
    }
}
