using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tritter.Core.Config;

/// <summary>Reads and writes <c>config.json</c> with the Hugging Face style snake_case field names.</summary>
public static class TritterConfigFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    /// <summary>Serialises <paramref name="config"/> to JSON text.</summary>
    public static string ToJson(TritterConfig config) => JsonSerializer.Serialize(config, Options);

    /// <summary>Parses and validates JSON text; <paramref name="source"/> names the file in error messages.</summary>
    public static TritterConfig FromJson(string json, string source)
    {
        TritterConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<TritterConfig>(json, Options);
        }
        catch (JsonException e)
        {
            var field = e.Path is null or "$" ? "" : $" at field '{e.Path.TrimStart('$', '.')}'";
            throw new InvalidDataException($"{source}{field}: {e.Message}", e);
        }
        if (config is null)
            throw new InvalidDataException($"{source}: the file holds JSON null, not a configuration object");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        return config;
    }

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    public static TritterConfig Read(string path) => FromJson(File.ReadAllText(path), path);

    /// <summary>Writes <paramref name="config"/> to <paramref name="path"/> through a temporary file, so a crash never leaves half a file.</summary>
    public static void Write(TritterConfig config, string path)
    {
        config.Validate();
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, ToJson(config));
        File.Move(temporary, path, overwrite: true);
    }
}
