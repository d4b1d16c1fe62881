using System.Text.Json;

namespace Tritter.Core.Checkpoints;

/// <summary>Where training stands, stored as <c>trainer_state.json</c> beside the optimizer state.</summary>
/// <param name="Step">Optimizer steps taken.</param>
/// <param name="SamplerPosition">Index of the next sample the data sampler hands out.</param>
/// <param name="RngState">The training random generator's state, in whatever string form the trainer serialises it.</param>
/// <param name="AlphaSchedule">The embedding-prediction weight's curriculum in its text form, or null (older checkpoints, or the configuration's constant).</param>
public sealed record TrainerState(long Step, long SamplerPosition, string RngState, string? AlphaSchedule = null)
{
    /// <summary>The JSON form.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("step", Step);
            writer.WriteNumber("sampler_position", SamplerPosition);
            writer.WriteString("rng_state", RngState);
            if (AlphaSchedule is not null)
                writer.WriteString("alpha_schedule", AlphaSchedule);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses the JSON form; anything malformed throws <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static TrainerState Parse(byte[] json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: trainer state is a JSON {root.ValueKind}, not an object");
            var alpha = root.TryGetProperty("alpha_schedule", out _) ? Text(root, "alpha_schedule", path) : null;
            return new TrainerState(Count(root, "step", path), Count(root, "sampler_position", path), Text(root, "rng_state", path), alpha);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: trainer state is not valid JSON ({e.Message})", e);
        }
    }

    private static long Count(JsonElement root, string field, string path) =>
        root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count >= 0
            ? count
            : throw new InvalidDataException($"{path}: \"{field}\" must be a non-negative integer");

    private static string Text(JsonElement root, string field, string path) =>
        root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{path}: \"{field}\" must be a string");
}
