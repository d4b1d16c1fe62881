using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Tritter.Bench.Gpu;

namespace Tritter.Bench;

/// <summary>
/// Bytes each CPU benchmark must move, and operations it must do, per invocation, stated by the suite in its setup, so
/// that the host-timed suites report GB/s and TFLOP/s as the GPU suites do.
/// </summary>
public static class HostBytes
{
    private static readonly ConcurrentDictionary<string, (long Bytes, double Flops)> Work = new();

    /// <summary>
    /// States that one invocation of <paramref name="method"/> of the running suite moves <paramref name="bytes"/> and,
    /// for a compute-bound op, does <paramref name="flops"/> operations.
    /// </summary>
    public static void Set(object benchmark, string method, long bytes, double flops = 0) =>
        Work[DeviceTimings.Key(benchmark, method)] = (bytes, flops);

    /// <summary>The bytes stated for a case, or null.</summary>
    public static long? Of(BenchmarkCase benchmarkCase) => Work.TryGetValue(DeviceTimings.Key(benchmarkCase), out var work) ? work.Bytes : null;

    /// <summary>The operations stated for a case, or null where none were.</summary>
    public static double? FlopsOf(BenchmarkCase benchmarkCase) =>
        Work.TryGetValue(DeviceTimings.Key(benchmarkCase), out var work) && work.Flops > 0 ? work.Flops : null;
}

/// <summary>Adds the GB/s and TFLOP/s columns (stated bytes and operations / mean host time) to a CPU suite.</summary>
public sealed class HostBandwidthConfig : ManualConfig
{
    /// <summary>The GB/s and TFLOP/s columns.</summary>
    public HostBandwidthConfig() => AddColumn(
        new HostRateColumn("GB/s", "Bytes the op must move / mean host time", c => HostBytes.Of(c), 1, "F2"),
        // A CPU does tens of GFLOP/s: four decimals keep three significant digits.
        new HostRateColumn("TFLOP/s", "Operations the op must do / mean host time", HostBytes.FlopsOf, 1e3, "F4"));
}

/// <summary>A stated amount per invocation / mean host time (nanoseconds), divided by <c>scale</c> into the column's unit.</summary>
internal sealed class HostRateColumn(string name, string legend, Func<BenchmarkCase, double?> amount, double scale, string format) : IColumn
{
    public string Id => "Tritter.Host." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return amount(benchmarkCase) is { } total && mean is > 0
            ? (total / mean.Value / scale).ToString(format, CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
