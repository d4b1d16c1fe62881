using System.Text;
using System.Text.Json;

namespace Tritter.Text.Bpe;

/// <summary>
/// Reads and writes a byte-level BPE as a Hugging Face <c>tokenizer.json</c> (Microsoft.ML.Tokenizers has no loader
/// for it). The special tokens are <c>added_tokens</c> with ids 0..<see cref="SpecialTokens.Count"/>-1, and the BPE
/// vocabulary follows them, so the ids in the file are the ids of the shared vocabulary.
/// </summary>
public static class HuggingFaceTokenizerFile
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, ByteLevelBpeModel model)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (var id = 0; id < SpecialTokens.Count; id++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", id);
                json.WriteString("content", SpecialTokens.Names[id]);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNull("normalizer");
            WritePreTokenizer(json);
            json.WriteNull("post_processor");
            json.WriteStartObject("decoder");
            WriteByteLevelSettings(json);
            json.WriteEndObject();
            WriteModel(json, model);
            json.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Reads a byte-level BPE <c>tokenizer.json</c>, checking what the tokenizer relies on: the special tokens at
    /// their ids, a contiguous id range after them, tokens in the byte-level alphabet, and merges of known tokens.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not such a tokenizer; the message names the file and the problem.</exception>
    public static ByteLevelBpeModel Read(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid(path, "the top level is not a JSON object");
            CheckAddedTokens(path, root);
            var model = Property(path, root, "model", JsonValueKind.Object);
            var type = Property(path, model, "type", JsonValueKind.String).GetString();
            if (type != "BPE")
                throw Invalid(path, $"model.type is '{type}', expected 'BPE'");
            var (tokens, ids) = ReadVocabulary(path, Property(path, model, "vocab", JsonValueKind.Object));
            var merges = ReadMerges(path, Property(path, model, "merges", JsonValueKind.Array), ids);
            return new ByteLevelBpeModel(tokens, merges);
        }
    }

    private static void CheckAddedTokens(string path, JsonElement root)
    {
        var names = new string?[SpecialTokens.Count];
        foreach (var added in Property(path, root, "added_tokens", JsonValueKind.Array).EnumerateArray())
        {
            var id = Property(path, added, "id", JsonValueKind.Number).GetInt32();
            if ((uint)id < (uint)names.Length)
                names[id] = Property(path, added, "content", JsonValueKind.String).GetString();
        }
        for (var id = 0; id < names.Length; id++)
        {
            if (names[id] != SpecialTokens.Names[id])
                throw Invalid(path, $"added token {id} is '{names[id] ?? "missing"}', expected '{SpecialTokens.Names[id]}'");
        }
    }

    private static (byte[][] Tokens, Dictionary<string, int> Ids) ReadVocabulary(string path, JsonElement vocab)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id))
                throw Invalid(path, $"vocab entry '{entry.Name}' has id {entry.Value}, expected an integer");
            ids[entry.Name] = id - SpecialTokens.Count;
        }
        var tokens = new byte[ids.Count][];
        foreach (var (token, local) in ids)
        {
            if ((uint)local >= (uint)tokens.Length || tokens[local] is not null)
                throw Invalid(path, $"vocab ids must run from {SpecialTokens.Count} to {SpecialTokens.Count + ids.Count - 1}, each once; '{token}' has {local + SpecialTokens.Count}");
            try
            {
                tokens[local] = ByteLevelAlphabet.Decode(token);
            }
            catch (FormatException e)
            {
                throw Invalid(path, e.Message);
            }
        }
        return (tokens, ids);
    }

    private static List<(int, int)> ReadMerges(string path, JsonElement merges, Dictionary<string, int> ids)
    {
        var result = new List<(int, int)>();
        foreach (var merge in merges.EnumerateArray())
        {
            // Older files write a merge as "left right"; newer ones as ["left", "right"].
            var (left, right) = merge.ValueKind switch
            {
                JsonValueKind.String when merge.GetString()!.Split(' ') is [var l, var r] => (l, r),
                JsonValueKind.Array when merge.GetArrayLength() == 2 && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String
                    => (merge[0].GetString()!, merge[1].GetString()!),
                _ => throw Invalid(path, $"merge {result.Count} is {merge}, expected \"left right\" or [\"left\", \"right\"]"),
            };
            if (!ids.TryGetValue(left, out var leftId) || !ids.TryGetValue(right, out var rightId))
                throw Invalid(path, $"merge {result.Count} ('{left}' '{right}') names a token that is not in the vocab");
            if (!ids.ContainsKey(left + right))
                throw Invalid(path, $"merge {result.Count} ('{left}' '{right}') makes '{left + right}', which is not in the vocab");
            result.Add((leftId, rightId));
        }
        return result;
    }

    private static JsonElement Property(string path, JsonElement parent, string name, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(name, out var value))
            throw Invalid(path, $"'{name}' is missing");
        if (value.ValueKind != kind)
            throw Invalid(path, $"'{name}' is {value.ValueKind}, expected {kind}");
        return value;
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"{path}: {problem}");

    private static void WritePreTokenizer(Utf8JsonWriter json)
    {
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("pretokenizers");
        json.WriteStartObject();
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", CodePreTokenizer.Pattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Isolated");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();
        json.WriteStartObject();
        WriteByteLevelSettings(json);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteByteLevelSettings(Utf8JsonWriter json)
    {
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", false);
        json.WriteBoolean("use_regex", false);
    }

    private static void WriteModel(Utf8JsonWriter json, ByteLevelBpeModel model)
    {
        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteNull("continuing_subword_prefix");
        json.WriteNull("end_of_word_suffix");
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteBoolean("ignore_merges", false);
        json.WriteStartObject("vocab");
        for (var local = 0; local < model.Tokens.Count; local++)
            json.WriteNumber(ByteLevelAlphabet.Encode(model.Tokens[local]), SpecialTokens.Count + local);
        json.WriteEndObject();
        json.WriteStartArray("merges");
        foreach (var (left, right) in model.Merges)
        {
            json.WriteStartArray();
            json.WriteStringValue(ByteLevelAlphabet.Encode(model.Tokens[left]));
            json.WriteStringValue(ByteLevelAlphabet.Encode(model.Tokens[right]));
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The token strings of <paramref name="model"/> in the byte-level alphabet, by local id.</summary>
    internal static string[] TokenStrings(ByteLevelBpeModel model) =>
        [.. model.Tokens.Select(t => ByteLevelAlphabet.Encode(t))];

    /// <summary>A merge as Microsoft.ML.Tokenizers' <c>BpeOptions.Merges</c> wants it: "left right".</summary>
    internal static string MergeLine(string[] tokenStrings, (int Left, int Right) merge) =>
        new StringBuilder(tokenStrings[merge.Left]).Append(' ').Append(tokenStrings[merge.Right]).ToString();
}
