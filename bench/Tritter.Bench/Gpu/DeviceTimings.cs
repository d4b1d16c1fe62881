using System.Collections.Concurrent;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Device time and bytes of every GPU benchmark invocation, measured with CUDA events. The suites run in-process, so the
/// columns read these figures from the same process after the run.
/// </summary>
public static class DeviceTimings
{
    private static readonly ConcurrentDictionary<string, ConcurrentBag<(double Milliseconds, long Bytes, double Flops)>> Samples = new();

    /// <summary>Records one invocation of the benchmark named by <paramref name="key"/>.</summary>
    public static void Record(string key, double milliseconds, long bytes, double flops) =>
        Samples.GetOrAdd(key, _ => []).Add((milliseconds, bytes, flops));

    /// <summary>Median device milliseconds, bytes and flops per invocation of a benchmark case, or null when none was recorded.</summary>
    public static (double Milliseconds, long Bytes, double Flops)? Median(BenchmarkCase benchmarkCase)
    {
        if (!Samples.TryGetValue(Key(benchmarkCase), out var bag) || bag.IsEmpty)
            return null;
        var sorted = bag.OrderBy(s => s.Milliseconds).ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>The key of a benchmark case: type, method and parameter values.</summary>
    public static string Key(BenchmarkCase benchmarkCase) =>
        Key(benchmarkCase.Descriptor.Type.Name, benchmarkCase.Descriptor.WorkloadMethod.Name,
            benchmarkCase.Parameters.Items.Select(p => $"{p.Name}={p.Value}"));

    /// <summary>The key of a running benchmark instance, built from its <see cref="ParamsAttribute"/> properties.</summary>
    public static string Key(object benchmark, string method) =>
        Key(benchmark.GetType().Name, method, benchmark.GetType().GetProperties()
            .Where(p => p.GetCustomAttribute<ParamsAttribute>() is not null)
            .Select(p => $"{p.Name}={p.GetValue(benchmark)}"));

    private static string Key(string type, string method, IEnumerable<string> parameters) =>
        $"{type}.{method}({string.Join(",", parameters.Order(StringComparer.Ordinal))})";
}
