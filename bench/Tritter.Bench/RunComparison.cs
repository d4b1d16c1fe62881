using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tritter.Bench;

/// <summary>One measured case: device median (GPU suites) or host mean (CPU suites), and its run-to-run spread.</summary>
/// <param name="Name">Suite, method and parameters.</param>
/// <param name="Microseconds">The time per invocation.</param>
/// <param name="SpreadMicroseconds">Interquartile range (device) or standard deviation (host).</param>
public sealed record MeasuredCase(string Name, double Microseconds, double SpreadMicroseconds);

/// <summary>
/// Compares a run with earlier runs on the same device, each case with the latest earlier run that measured it (runs
/// are often filtered to a few suites, so the run just before may share no case). A case is flagged when it is slower by
/// more than twice the larger spread of the two measurements and by more than 5%, so noise on a shared machine is not
/// called a regression.
/// </summary>
public static class RunComparison
{
    /// <summary>
    /// A Markdown section comparing <paramref name="current"/> with the runs stored in <paramref name="previousJsons"/>
    /// (oldest first), or an empty string when no case was measured before.
    /// </summary>
    public static string Markdown(IReadOnlyList<string> previousJsons, IReadOnlyList<MeasuredCase> current)
    {
        var latest = new Dictionary<string, (MeasuredCase Case, string Run)>(StringComparer.Ordinal);
        foreach (var path in previousJsons)
        {
            foreach (var (name, measured) in Load(path))
                latest[name] = (measured, Path.GetFileNameWithoutExtension(path));
        }
        var text = new StringBuilder();
        text.AppendLine("## Compared with earlier runs on this device");
        text.AppendLine();
        text.AppendLine("| case | earlier run | before us | now us | change | verdict |");
        text.AppendLine("|---|---|---:|---:|---:|---|");
        var (compared, regressions) = (0, 0);
        foreach (var now in current)
        {
            if (!latest.TryGetValue(now.Name, out var before) || !double.IsFinite(before.Case.Microseconds) || !double.IsFinite(now.Microseconds))
                continue;
            compared++;
            var old = before.Case;
            var change = now.Microseconds / old.Microseconds - 1;
            var noise = 2 * Math.Max(Finite(old.SpreadMicroseconds), Finite(now.SpreadMicroseconds));
            var verdict = Math.Abs(now.Microseconds - old.Microseconds) <= noise || Math.Abs(change) <= 0.05 ? "within noise"
                : change > 0 ? "**REGRESSION**" : "faster";
            regressions += verdict == "**REGRESSION**" ? 1 : 0;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {now.Name} | {before.Run} | {old.Microseconds:F2} | {now.Microseconds:F2} | {change:+0.0%;-0.0%} | {verdict} |");
        }
        if (compared == 0)
            return "";
        Console.WriteLine($"// compared {compared} case(s) with earlier runs on this device: {regressions} regression(s)");
        text.AppendLine();
        return text.ToString();
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static Dictionary<string, MeasuredCase> Load(string path)
    {
        var cases = new Dictionary<string, MeasuredCase>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (!document.RootElement.TryGetProperty("results", out var results))
                return cases;
            foreach (var row in results.EnumerateArray())
            {
                if (row.TryGetProperty("case", out var name) && row.TryGetProperty("time_us", out var time) && time.ValueKind == JsonValueKind.Number)
                {
                    var spread = row.TryGetProperty("spread_us", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : double.NaN;
                    cases[name.GetString()!] = new MeasuredCase(name.GetString()!, time.GetDouble(), spread);
                }
            }
        }
        catch (JsonException e)
        {
            Console.WriteLine($"// previous run {path} is not readable JSON ({e.Message}); no comparison");
        }
        return cases;
    }
}
