using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>Adds the device-time columns to every GPU suite.</summary>
public sealed class GpuColumnsConfig : ManualConfig
{
    /// <summary>Device time, GB/s, TFLOP/s and percent of the copy and tensor-core rooflines.</summary>
    public GpuColumnsConfig() => AddColumn(
        new DeviceColumn("Device us", (m, _) => m.Milliseconds * 1e3),
        new DeviceColumn("us/op", (m, _) => m.Milliseconds * 1e3 / m.Operations),
        new DeviceColumn("GB/s", (m, _) => m.Bytes / (m.Milliseconds * 1e-3) / 1e9),
        new DeviceColumn("TFLOP/s", (m, _) => m.Flops / (m.Milliseconds * 1e-3) / 1e12),
        new DeviceColumn("% copy BW", (m, _) => 100 * m.Bytes / (m.Milliseconds * 1e-3) / 1e9 / Roofline.CopyGBps),
        new DeviceColumn("% mma peak", (m, c) => MmaRoofline(c) is { } kind
            ? 100 * m.Flops / (m.Milliseconds * 1e-3) / 1e12 / Roofline.MmaPeak(kind) : double.NaN));

    /// <summary>
    /// The tensor-core roofline a case is compared with: its method's attribute, else the mma of its
    /// <see cref="MatmulPrecision"/> or <see cref="DenseKernel"/> parameter where it has one (bf16's on wgmma too), else its
    /// suite's attribute, else none.
    /// </summary>
    public static MmaKind? MmaRoofline(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<MmaRooflineAttribute>() is { } method)
            return method.Kind;
        foreach (var parameter in benchmarkCase.Parameters.Items)
            switch (parameter.Value)
            {
                case MatmulPrecision precision:
                    return precision == MatmulPrecision.BFloat16 ? MmaKind.Bf16 : MmaKind.Tf32;
                case DenseKernel kernel:
                    return kernel == DenseKernel.Tf32 ? MmaKind.Tf32 : MmaKind.Bf16;
            }
        return benchmarkCase.Descriptor.Type.GetCustomAttribute<MmaRooflineAttribute>(inherit: true)?.Kind;
    }
}

/// <summary>A column computed from the median device-side measurement of each case.</summary>
internal sealed class DeviceColumn(string name, Func<DeviceSample, BenchmarkCase, double> value) : IColumn
{
    public string Id => "Tritter." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => name switch
    {
        "Device us" => "Median device time per invocation, CUDA events",
        "us/op" => "Device time per op launch (an invocation may replay a graph of many)",
        "GB/s" => "Bytes the op must move / device time",
        "TFLOP/s" => "Operations the op must do / device time",
        "tokens/s" => "Tokens per invocation / device time",
        "bound tokens/s" => "Copy bandwidth measured at start / bytes a decode step must read",
        "% mma peak" => "TFLOP/s as a percentage of the tensor-core (mma.sync) peak measured at start, compute-bound cases",
        _ => "GB/s as a percentage of the device-to-device copy bandwidth measured at start",
    };

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var median = DeviceTimings.Median(benchmarkCase);
        if (median is null)
            return "-";
        var v = value(median.Value, benchmarkCase);
        return double.IsFinite(v) && v != 0 ? v.ToString(v >= 100 ? "F0" : "F2", System.Globalization.CultureInfo.InvariantCulture) : "-";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
