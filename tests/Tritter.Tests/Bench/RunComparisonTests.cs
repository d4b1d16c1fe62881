using Tritter.Bench;

namespace Tritter.Tests.Bench;

/// <summary>The regression flags of the bench program's run-to-run comparison.</summary>
public sealed class RunComparisonTests
{
    [Test]
    public void Flags_slowdowns_beyond_the_spread_and_not_noise()
    {
        var previous = Path.Combine(Path.GetTempPath(), $"tritter-previous-{Guid.NewGuid():N}.json");
        File.WriteAllText(previous, """
            { "results": [
              { "case": "A.Run(N=1)", "time_us": 100.0, "spread_us": 1.0 },
              { "case": "B.Run(N=1)", "time_us": 100.0, "spread_us": 20.0 },
              { "case": "C.Run(N=1)", "time_us": 100.0, "spread_us": 1.0 },
              { "case": "D.Run(N=1)", "time_us": 100.0, "spread_us": 1.0 }
            ] }
            """);
        try
        {
            var text = RunComparison.Markdown([previous], [
                new MeasuredCase("A.Run(N=1)", 130, 1),   // 30% slower, spread 1: a regression
                new MeasuredCase("B.Run(N=1)", 130, 20),  // 30% slower but within twice the spread: noise
                new MeasuredCase("C.Run(N=1)", 103, 0.1), // 3% slower: under the 5% floor
                new MeasuredCase("D.Run(N=1)", 70, 1),    // faster
                new MeasuredCase("E.Run(N=1)", 10, 1),    // new case: not compared
            ]);
            Assert.That(Line(text, "A.Run"), Does.Contain("REGRESSION").And.Contain("+30.0%"));
            Assert.That(Line(text, "B.Run"), Does.Contain("within noise"));
            Assert.That(Line(text, "C.Run"), Does.Contain("within noise"));
            Assert.That(Line(text, "D.Run"), Does.Contain("faster").And.Contain("-30.0%"));
            Assert.That(text, Does.Not.Contain("E.Run"));
        }
        finally
        {
            File.Delete(previous);
        }
    }

    [Test]
    public void Unreadable_previous_run_gives_no_comparison()
    {
        var previous = Path.Combine(Path.GetTempPath(), $"tritter-previous-{Guid.NewGuid():N}.json");
        File.WriteAllText(previous, "{ not json");
        try
        {
            Assert.That(RunComparison.Markdown([previous], [new MeasuredCase("A.Run(N=1)", 1, 0)]), Is.Empty);
        }
        finally
        {
            File.Delete(previous);
        }
    }

    [Test]
    public void Each_case_is_compared_with_the_latest_earlier_run_that_measured_it()
    {
        var directory = Directory.CreateTempSubdirectory("tritter-runs-").FullName;
        var older = Path.Combine(directory, "2026-01-01-000000.json");
        var newer = Path.Combine(directory, "2026-01-02-000000.json");
        File.WriteAllText(older, """
            { "results": [
              { "case": "A.Run()", "time_us": 50.0, "spread_us": 0.1 },
              { "case": "B.Run()", "time_us": 100.0, "spread_us": 0.1 }
            ] }
            """);
        File.WriteAllText(newer, """{ "results": [ { "case": "A.Run()", "time_us": 200.0, "spread_us": 0.1 } ] }""");
        try
        {
            var text = RunComparison.Markdown([older, newer], [new MeasuredCase("A.Run()", 200, 0.1), new MeasuredCase("B.Run()", 200, 0.1)]);
            Assert.That(Line(text, "A.Run"), Does.Contain("2026-01-02-000000").And.Contain("within noise"));
            Assert.That(Line(text, "B.Run"), Does.Contain("2026-01-01-000000").And.Contain("REGRESSION"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void A_failed_case_is_not_compared()
    {
        var previous = Path.Combine(Path.GetTempPath(), $"tritter-previous-{Guid.NewGuid():N}.json");
        File.WriteAllText(previous, """
            { "results": [
              { "case": "A.Run(N=1)", "time_us": null, "spread_us": null },
              { "case": "B.Run(N=1)", "time_us": 100.0, "spread_us": 1.0 },
              { "case": "C.Run(N=1)", "time_us": 100.0, "spread_us": 1.0 }
            ] }
            """);
        try
        {
            var text = RunComparison.Markdown([previous], [
                new MeasuredCase("A.Run(N=1)", 130, 1),            // failed before: nothing to compare with
                new MeasuredCase("B.Run(N=1)", double.NaN, double.NaN), // failed now
                new MeasuredCase("C.Run(N=1)", 130, 1),
            ]);
            Assert.That(text, Does.Not.Contain("A.Run").And.Not.Contain("B.Run"));
            Assert.That(Line(text, "C.Run"), Does.Contain("REGRESSION"));
        }
        finally
        {
            File.Delete(previous);
        }
    }

    private static string Line(string text, string start) =>
        text.Split('\n').Single(l => l.StartsWith("| " + start, StringComparison.Ordinal));
}
