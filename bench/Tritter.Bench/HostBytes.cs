using System.Collections.Concurrent;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Tritter.Bench.Gpu;

namespace Tritter.Bench;

/// <summary>
/// Bytes each CPU benchmark must move per invocation, stated by the suite in its setup, so that the host-timed suites
/// report GB/s as the GPU suites do.
/// </summary>
public static class HostBytes
{
    private static readonly ConcurrentDictionary<string, long> Bytes = new();

    /// <summary>States that one invocation of <paramref name="method"/> of the running suite moves <paramref name="bytes"/>.</summary>
    public static void Set(object benchmark, string method, long bytes) => Bytes[DeviceTimings.Key(benchmark, method)] = bytes;

    /// <summary>The bytes stated for a case, or null.</summary>
    public static long? Of(BenchmarkCase benchmarkCase) => Bytes.TryGetValue(DeviceTimings.Key(benchmarkCase), out var bytes) ? bytes : null;
}

/// <summary>Adds the GB/s column (stated bytes / mean host time) to a CPU suite.</summary>
public sealed class HostBandwidthConfig : ManualConfig
{
    /// <summary>The GB/s column.</summary>
    public HostBandwidthConfig() => AddColumn(new HostBandwidthColumn());
}

/// <summary>Bytes the op must move / mean host time.</summary>
internal sealed class HostBandwidthColumn : IColumn
{
    public string Id => "Tritter.HostGBps";
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Bytes the op must move / mean host time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return HostBytes.Of(benchmarkCase) is { } bytes && mean is > 0
            ? (bytes / mean.Value).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
