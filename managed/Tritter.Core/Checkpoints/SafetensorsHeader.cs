using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Unicode;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// The JSON header of a safetensors file: parsed and validated as the reference implementation validates it, and
/// serialised padded with spaces to a multiple of 8 bytes.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference implementation's limit on the header's size.</summary>
    public const long MaxBytes = 100_000_000;

    /// <summary>The header key that holds string-to-string metadata rather than a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// Parses <paramref name="json"/> and checks every entry against a data buffer of <paramref name="dataLength"/> bytes;
    /// tensors come back in data order. Every problem is an <see cref="InvalidDataException"/> naming <paramref name="path"/>.
    /// </summary>
    public static (List<SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(byte[] json, long dataLength, string path)
    {
        // JsonDocument checks UTF-8 lazily, when a string is read; checking up front keeps bad bytes an InvalidDataException.
        if (!Utf8.IsValid(json))
            throw Invalid(path, "header is not valid UTF-8 JSON (invalid UTF-8 bytes)");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"header is not valid UTF-8 JSON ({e.Message})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid(path, $"header is a JSON {document.RootElement.ValueKind}, not an object");
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Invalid(path, $"header names \"{property.Name}\" twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, path);
                else
                    tensors.Add(ReadTensor(property.Name, property.Value, path));
            }
            CheckLayout(tensors, dataLength, path);
            return (tensors, metadata);
        }
    }

    /// <summary>Serialises a header for tensors whose offsets are already laid out, padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] Serialize(IEnumerable<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var tensor in tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", tensor.DType.HeaderName());
                writer.WriteStartArray("shape");
                foreach (var d in tensor.Shape)
                    writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(tensor.Begin);
                writer.WriteNumberValue(tensor.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    /// <summary>An error that names the file and the problem.</summary>
    public static InvalidDataException Invalid(string path, string problem) => new($"{path}: not a valid safetensors file: {problem}");

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"{MetadataKey} is a JSON {element.ValueKind}, not an object of strings");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"{MetadataKey}[\"{entry.Name}\"] is a JSON {entry.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Invalid(path, $"{MetadataKey} names \"{entry.Name}\" twice");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"tensor \"{name}\" is a JSON {element.ValueKind}, not an object");
        string? dtypeName = null;
        ImmutableArray<long>? shape = null;
        ImmutableArray<long>? offsets = null;
        foreach (var field in element.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeName is null:
                    dtypeName = field.Value.ValueKind == JsonValueKind.String
                        ? field.Value.GetString()
                        : throw Invalid(path, $"tensor \"{name}\": dtype is a JSON {field.Value.ValueKind}, not a string");
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(field.Value, name, "shape", path);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(field.Value, name, "data_offsets", path);
                    break;
                default:
                    throw Invalid(path, $"tensor \"{name}\": unexpected or repeated field \"{field.Name}\"");
            }
        }
        if (dtypeName is null || shape is null || offsets is null)
            throw Invalid(path, $"tensor \"{name}\" lacks {(dtypeName is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Invalid(path, $"tensor \"{name}\" has unknown dtype \"{dtypeName}\"");
        if (offsets.Value.Length != 2)
            throw Invalid(path, $"tensor \"{name}\": data_offsets has {offsets.Value.Length} entries, not 2");
        var (begin, end) = (offsets.Value[0], offsets.Value[1]);
        if (end < begin)
            throw Invalid(path, $"tensor \"{name}\": data_offsets [{begin}, {end}] end before they begin");
        var bytes = ByteCount(shape.Value, dtype, name, path);
        if (end - begin != bytes)
            throw Invalid(path, $"tensor \"{name}\": shape [{string.Join(", ", shape.Value)}] of {dtypeName} needs {bytes} bytes, data_offsets [{begin}, {end}] hold {end - begin}");
        return new SafetensorsTensorInfo(name, dtype, shape.Value, begin, end);
    }

    private static ImmutableArray<long> ReadIntegers(JsonElement element, string name, string field, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"tensor \"{name}\": {field} is a JSON {element.ValueKind}, not an array");
        var values = ImmutableArray.CreateBuilder<long>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
                throw Invalid(path, $"tensor \"{name}\": {field} holds {item.GetRawText()}, not a non-negative 64-bit integer");
            values.Add(value);
        }
        return values.MoveToImmutable();
    }

    private static long ByteCount(ImmutableArray<long> shape, SafetensorsDType dtype, string name, string path)
    {
        long count = dtype.SizeOf();
        foreach (var d in shape)
        {
            if (d != 0 && count > long.MaxValue / d)
                throw Invalid(path, $"tensor \"{name}\": shape [{string.Join(", ", shape)}] overflows a 64-bit byte count");
            count *= d;
        }
        return count;
    }

    private static void CheckLayout(List<SafetensorsTensorInfo> tensors, long dataLength, string path)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var tensor in tensors)
        {
            if (tensor.Begin != expected)
            {
                var problem = tensor.Begin < expected ? "overlaps the tensor before it" : $"leaves a gap of {tensor.Begin - expected} bytes before it";
                throw Invalid(path, $"tensor \"{tensor.Name}\" at data_offsets [{tensor.Begin}, {tensor.End}] {problem}; offsets must be contiguous from 0");
            }
            expected = tensor.End;
        }
        if (expected != dataLength)
            throw Invalid(path, $"tensors cover {expected} bytes of data but the file holds {dataLength} after the header");
    }
}
