using System.Globalization;
using System.Text.Json;

namespace Tritter.Cli.Training;

/// <summary>One line of <c>metrics.jsonl</c>.</summary>
/// <param name="Step">1-based step.</param>
/// <param name="Loss">Training loss of the step's batch.</param>
/// <param name="LearningRate">Rate used.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Training tokens per second of this step.</param>
/// <param name="EvalLoss">Held-out loss, on steps that evaluate.</param>
/// <param name="Skipped">True when the step was skipped for a non-finite loss or gradient.</param>
/// <param name="Alpha">Weight of the embedding-prediction loss (the alpha curriculum's value at this step).</param>
internal sealed record StepMetrics(int Step, double Loss, double LearningRate, double GradientNorm, double TokensPerSecond, double? EvalLoss = null,
    bool Skipped = false, double Alpha = 0);

/// <summary>
/// The per-step record of a run, one JSON object per line, flushed per line so a crash loses at most the step in flight.
/// On resume, lines past the checkpoint's step are dropped, so the file always describes one consistent run.
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly StreamWriter _writer;

    private MetricsLog(StreamWriter writer, List<StepMetrics> history)
    {
        _writer = writer;
        History = history;
    }

    /// <summary>Every record so far, including those read back on resume.</summary>
    public List<StepMetrics> History { get; }

    /// <summary>Opens <paramref name="path"/>, keeping the records up to <paramref name="resumeStep"/> (0 for a new run).</summary>
    public static MetricsLog Open(string path, int resumeStep)
    {
        var kept = new List<StepMetrics>();
        if (resumeStep > 0 && File.Exists(path))
        {
            var lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                    continue;
                StepMetrics? record;
                try
                {
                    record = JsonSerializer.Deserialize<StepMetrics>(line, Json);
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: not a metrics record ({e.Message})", e);
                }
                if (record is not null && record.Step <= resumeStep)
                    kept.Add(record);
            }
        }
        var temporary = path + ".tmp";
        using (var rewrite = new StreamWriter(temporary))
        {
            foreach (var record in kept)
                rewrite.WriteLine(JsonSerializer.Serialize(record, Json));
        }
        File.Move(temporary, path, overwrite: true);
        return new MetricsLog(new StreamWriter(path, append: true) { AutoFlush = true }, kept);
    }

    /// <summary>Appends and flushes one record.</summary>
    public void Append(StepMetrics record)
    {
        History.Add(record);
        _writer.WriteLine(JsonSerializer.Serialize(record, Json));
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    /// <summary>Formats a number for the progress line.</summary>
    public static string Format(double value) => value.ToString(value >= 100 ? "F0" : value >= 1 ? "F3" : "G3", CultureInfo.InvariantCulture);
}
