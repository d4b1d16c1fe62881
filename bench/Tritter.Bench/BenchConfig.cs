using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Tritter.Bench;

/// <summary>
/// The suites' configuration. Benchmarks run in-process, so the self-contained bundle runs them on a machine without the
/// .NET SDK. Tritter's own options, taken out before BenchmarkDotNet sees the rest: <c>--quick</c> shortens every suite
/// to a smoke pass; <c>--results DIR</c> says where result files go (default <c>bench/results</c>).
/// </summary>
public static class BenchConfig
{
    // A quick case's iterations: enough invocations for a median of device times, a fifth of BenchmarkDotNet's default
    // (the pilot that sizes them doubles up to this), so a whole GPU session's suites fit one device call.
    private const int QuickIterationMilliseconds = 100;

    /// <summary>Builds the configuration from the command line and returns the arguments left for BenchmarkDotNet.</summary>
    public static (IConfig Config, string[] Remaining, string ResultsRoot) Create(string[] args)
    {
        var resultsAt = Array.IndexOf(args, "--results");
        var resultsRoot = resultsAt >= 0 && resultsAt + 1 < args.Length ? args[resultsAt + 1] : Path.Combine("bench", "results");
        if (resultsAt >= 0)
            args = [.. args[..resultsAt], .. args[Math.Min(args.Length, resultsAt + 2)..]];
        var quick = args.Contains("--quick");
        var job = quick
            ? Job.ShortRun.WithWarmupCount(1).WithIterationCount(3).WithLaunchCount(1)
                .WithIterationTime(TimeInterval.FromMilliseconds(QuickIterationMilliseconds))
            : Job.Default.WithWarmupCount(3).WithIterationCount(10);
        var config = DefaultConfig.Instance
            .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        return (config, [.. args.Where(a => a != "--quick")], resultsRoot);
    }
}
