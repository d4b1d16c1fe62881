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
            var text = RunComparison.Markdown(previous, [
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
    public void Unreadable_previous_run_gives_no_comparison_rows()
    {
        var previous = Path.Combine(Path.GetTempPath(), $"tritter-previous-{Guid.NewGuid():N}.json");
        File.WriteAllText(previous, "{ not json");
        try
        {
            Assert.That(RunComparison.Markdown(previous, [new MeasuredCase("A.Run(N=1)", 1, 0)]), Does.Contain("no case in common"));
        }
        finally
        {
            File.Delete(previous);
        }
    }

    private static string Line(string text, string start) =>
        text.Split('\n').Single(l => l.StartsWith("| " + start, StringComparison.Ordinal));
}
