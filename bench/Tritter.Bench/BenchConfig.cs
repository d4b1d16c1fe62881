using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Tritter.Bench;

/// <summary>
/// The suites' configuration. Benchmarks run in-process, so the self-contained bundle runs them on a machine without the
/// .NET SDK; <c>--quick</c> shortens every suite to a smoke pass.
/// </summary>
public static class BenchConfig
{
    /// <summary>Builds the configuration from the command line.</summary>
    public static IConfig Create(string[] args)
    {
        var quick = args.Contains("--quick");
        var job = quick
            ? Job.ShortRun.WithWarmupCount(1).WithIterationCount(3).WithLaunchCount(1)
            : Job.Default.WithWarmupCount(3).WithIterationCount(10);
        return DefaultConfig.Instance
            .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
