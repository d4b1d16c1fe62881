using System.Text.Json;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// A model checkpoint directory in the Hugging Face layout: <c>model.safetensors</c> with the weights and
/// <c>config.json</c> beside it. Opening validates both; weights are read on demand through <see cref="Weights"/>.
/// </summary>
public sealed class ModelCheckpoint : IDisposable
{
    /// <summary>File name of the weights.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>File name of the model configuration.</summary>
    public const string ConfigFileName = "config.json";

    private ModelCheckpoint(SafetensorsFile weights, JsonDocument config)
    {
        Weights = weights;
        Config = config;
    }

    /// <summary>The weights file.</summary>
    public SafetensorsFile Weights { get; }

    /// <summary>The parsed <c>config.json</c>.</summary>
    public JsonDocument Config { get; }

    /// <summary>
    /// Writes <paramref name="weights"/> and <paramref name="configJson"/> into <paramref name="directory"/>, each file
    /// atomically; <paramref name="metadata"/> goes to the weights' <c>__metadata__</c> (plus <c>format: pt</c>, which
    /// Hugging Face loaders expect).
    /// </summary>
    public static void Save(string directory, IEnumerable<NamedTensor> weights, string configJson, IReadOnlyDictionary<string, string>? metadata = null)
    {
        // Parsing proves the config is JSON before anything is written.
        JsonDocument.Parse(configJson).Dispose();
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            writer.Metadata[key] = value;
        foreach (var tensor in weights)
            writer.AddFloat32(tensor.Name, tensor.LongShape, tensor.Data);
        writer.Write(Path.Combine(directory, WeightsFileName));
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFileName), configJson);
    }

    /// <summary>Opens the checkpoint in <paramref name="directory"/>; bad files throw <see cref="InvalidDataException"/> naming them.</summary>
    public static ModelCheckpoint Open(string directory)
    {
        var configPath = Path.Combine(directory, ConfigFileName);
        JsonDocument config;
        try
        {
            config = JsonDocument.Parse(File.ReadAllBytes(configPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message})", e);
        }
        try
        {
            return new ModelCheckpoint(SafetensorsFile.Open(Path.Combine(directory, WeightsFileName)), config);
        }
        catch
        {
            config.Dispose();
            throw;
        }
    }

    /// <summary>Reads float32 weight <paramref name="name"/> into <paramref name="destination"/>, checking its shape.</summary>
    public void ReadWeight(string name, ReadOnlySpan<int> shape, Span<float> destination)
    {
        var info = Weights.Get(name);
        if (!info.Shape.AsSpan().SequenceEqual(Array.ConvertAll(shape.ToArray(), d => (long)d)))
            throw new InvalidDataException($"{Weights.Path}: tensor \"{name}\" has shape [{string.Join(", ", info.Shape)}], the model expects [{string.Join(", ", shape.ToArray())}]");
        Weights.ReadFloat32(name, destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Weights.Dispose();
        Config.Dispose();
    }
}
