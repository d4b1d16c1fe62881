using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using Tritter.Bench.Gpu;
using Tritter.Cuda;

namespace Tritter.Bench;

/// <summary>
/// Writes one run's results as Markdown and JSON under <c>&lt;results&gt;/&lt;device&gt;/</c>, headed by what makes a
/// figure reproducible: date, device, driver, compute capability, commit and command line.
/// </summary>
public static partial class ResultsWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the summaries of the run started at <paramref name="stamp"/> (its files' name); returns the Markdown file's path.</summary>
    public static string Write(IReadOnlyList<Summary> summaries, string resultsRoot, string[] commandLine, DateTime stamp)
    {
        var probe = CudaProbe.Result;
        var gpu = probe.IsUsable ? probe.Devices[0] : null;
        var device = gpu?.Name ?? $"cpu-{Environment.ProcessorCount}-threads";
        var directory = Path.Combine(resultsRoot, Slug(device));
        Directory.CreateDirectory(directory);
        var name = $"{stamp:yyyy-MM-dd-HHmmss}";
        var commit = Commit();

        var markdown = new StringBuilder();
        markdown.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark run {stamp:yyyy-MM-dd HH:mm} UTC");
        markdown.AppendLine();
        markdown.AppendLine(CultureInfo.InvariantCulture, $"- device: {device}{(gpu is null ? "" : $" ({gpu.SmName}, {gpu.MultiprocessorCount} SMs)")}");
        if (gpu is not null)
            markdown.AppendLine(CultureInfo.InvariantCulture, $"- driver: CUDA {probe.DriverVersion}");
        else
            markdown.AppendLine(CultureInfo.InvariantCulture, $"- GPU: none used ({probe.Reason}); CPU suites only");
        markdown.AppendLine(CultureInfo.InvariantCulture, $"- commit: {commit}");
        markdown.AppendLine(CultureInfo.InvariantCulture, $"- command: `Tritter.Bench {string.Join(' ', commandLine)}`");
        if (!double.IsNaN(Roofline.CopyGBps))
            markdown.AppendLine(CultureInfo.InvariantCulture, $"- roofline: device-to-device copy {Roofline.CopyGBps:F0} GB/s (read + write, 1 GiB, median of 20, measured at start)");
        if (Roofline.MmaTflops.Count > 0)
            markdown.AppendLine(CultureInfo.InvariantCulture, $"- roofline: mma.sync peak {string.Join(", ", Roofline.MmaTflops.Select(p => $"{p.Key} {p.Value:F0}"))} TFLOP/s (TOP/s for Int8; register operands, every SM filled, median of 10, measured at start)");
        markdown.AppendLine();
        var rows = new List<Dictionary<string, object?>>();
        var cases = new List<MeasuredCase>();
        foreach (var summary in summaries)
        {
            using var text = new StringWriter();
            MarkdownExporter.GitHub.ExportToLog(summary, new TextLogger(text));
            markdown.AppendLine(text.ToString());
            foreach (var report in summary.Reports)
            {
                var median = DeviceTimings.Median(report.BenchmarkCase);
                var hostBytes = HostBytes.Of(report.BenchmarkCase);
                var measured = new MeasuredCase(
                    $"{report.BenchmarkCase.Descriptor.Type.Name}.{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}({report.BenchmarkCase.Parameters.PrintInfo})",
                    median is null ? (report.ResultStatistics?.Mean ?? double.NaN) / 1e3 : median.Value.Milliseconds * 1e3,
                    median is null ? (report.ResultStatistics?.StandardDeviation ?? double.NaN) / 1e3 : DeviceTimings.InterquartileRange(report.BenchmarkCase)!.Value * 1e3);
                cases.Add(measured);
                rows.Add(new()
                {
                    ["case"] = measured.Name,
                    ["time_us"] = Finite(measured.Microseconds),
                    ["spread_us"] = Finite(measured.SpreadMicroseconds),
                    ["suite"] = report.BenchmarkCase.Descriptor.Type.Name,
                    ["method"] = report.BenchmarkCase.Descriptor.WorkloadMethod.Name,
                    ["parameters"] = report.BenchmarkCase.Parameters.Items.ToDictionary(p => p.Name, p => p.Value?.ToString()),
                    ["host_mean_ns"] = Finite(report.ResultStatistics?.Mean),
                    ["device_median_us"] = median?.Milliseconds * 1e3,
                    ["bytes"] = median?.Bytes ?? hostBytes,
                    ["flops"] = median?.Flops ?? HostBytes.FlopsOf(report.BenchmarkCase),
                    ["operations"] = median?.Operations,
                    ["mma_roofline"] = GpuColumnsConfig.MmaRoofline(report.BenchmarkCase)?.ToString(),
                });
            }
        }
        // Only the run files themselves (yyyy-MM-dd-HHmmss.json): peers' files stored beside them are not runs.
        var previous = Directory.GetFiles(directory, "*.json")
            .Where(f => RunFile().IsMatch(Path.GetFileName(f)) && string.CompareOrdinal(Path.GetFileName(f), name) < 0)
            .Order(StringComparer.Ordinal).ToList();
        markdown.Append(RunComparison.Markdown(previous, cases));
        var path = Path.Combine(directory, name + ".md");
        File.WriteAllText(path, markdown.ToString());
        File.WriteAllText(Path.Combine(directory, name + ".json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["date"] = stamp.ToString("O", CultureInfo.InvariantCulture),
            ["device"] = device,
            ["compute_capability"] = gpu?.SmName,
            ["driver"] = gpu is null ? null : probe.DriverVersion,
            ["commit"] = commit,
            ["command"] = string.Join(' ', commandLine),
            ["copy_GBps"] = double.IsNaN(Roofline.CopyGBps) ? null : Roofline.CopyGBps,
            ["mma_peak_TFLOPs"] = Roofline.MmaTflops.ToDictionary(p => p.Key.ToString(), p => p.Value),
            ["results"] = rows,
        }, Indented));
        return path;
    }

    // A case that failed has no time: JSON has no NaN, and the comparison with later runs skips nulls.
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}-\d{6}\.json$")]
    private static partial Regex RunFile();

    private static string Slug(string device) =>
        new([.. device.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')]);

    /// <summary>The bundle's COMMIT file, else the checkout's HEAD, else "unknown".</summary>
    private static string Commit()
    {
        var bundled = Path.Combine(AppContext.BaseDirectory, "COMMIT");
        if (File.Exists(bundled))
            return File.ReadAllText(bundled).Trim();
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            var head = git?.StandardOutput.ReadToEnd().Trim();
            git?.WaitForExit();
            return string.IsNullOrEmpty(head) ? "unknown" : head;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
