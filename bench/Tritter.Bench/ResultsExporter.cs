using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace Tritter.Bench;

/// <summary>
/// Rewrites the run's results files (<see cref="ResultsWriter"/>) after every suite, not once at the end: a run stopped
/// by a device's time limit keeps every suite that finished.
/// </summary>
public sealed class ResultsExporter(string resultsRoot, string[] commandLine) : IExporter
{
    private readonly List<Summary> _summaries = [];
    private readonly DateTime _started = DateTime.UtcNow;

    /// <summary>The Markdown file written so far, or null before the first suite finished with results.</summary>
    public string? Path { get; private set; }

    /// <inheritdoc />
    public string Name => "tritter-results";

    /// <inheritdoc />
    public void ExportToLog(Summary summary, ILogger logger)
    {
    }

    /// <inheritdoc />
    public IEnumerable<string> ExportToFiles(Summary summary, ILogger consoleLogger)
    {
        _summaries.Add(summary);
        if (!_summaries.Any(s => s.Reports.Length > 0))
            return [];
        Path = ResultsWriter.Write(_summaries, resultsRoot, commandLine, _started);
        return [Path];
    }
}
