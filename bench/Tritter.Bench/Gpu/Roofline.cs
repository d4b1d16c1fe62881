using Tritter.Cuda;
using Tritter.Native.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>The tensor-core instruction whose peak rate a compute-bound case is compared with.</summary>
public enum MmaKind
{
    /// <summary><c>mma.sync</c> m16n8k8, TF32 inputs, float32 accumulation.</summary>
    Tf32,

    /// <summary><c>mma.sync</c> m16n8k16, BF16 inputs, float32 accumulation.</summary>
    Bf16,

    /// <summary><c>mma.sync</c> m16n8k32, INT8 inputs, int32 accumulation.</summary>
    Int8,
}

/// <summary>
/// The device's measured limits, taken by the suite itself at start on the same device: device-to-device copy
/// bandwidth (bytes read plus written), as PyTorch's <c>copy_</c> of 1 GiB measures it in the anchor script, and the
/// tensor-core peak of each <see cref="MmaKind"/> (<c>kernels/peak.cu</c>: independent <c>mma.sync</c> on register
/// operands, every SM filled), the roofline of compute-bound cases.
/// </summary>
public static class Roofline
{
    private const long CopyBytes = 1L << 30;

    // Rounds per warp: about a millisecond per launch at H100 rates, long enough that the launch ramp is noise.
    private const int PeakIterations = 8192;
    private const int PeakChains = 8; // kChains of kernels/peak.cu
    private const int PeakBlock = 256;

    private static readonly Dictionary<MmaKind, double> Peaks = [];

    /// <summary>Copy bandwidth in GB/s (read + write), or NaN before <see cref="Measure"/>.</summary>
    public static double CopyGBps { get; private set; } = double.NaN;

    /// <summary>Measured tensor-core peaks in TFLOP/s (TOP/s for INT8), empty before <see cref="Measure"/>.</summary>
    public static IReadOnlyDictionary<MmaKind, double> MmaTflops => Peaks;

    /// <summary>The measured peak of <paramref name="kind"/> in TFLOP/s, or NaN when not measured.</summary>
    public static double MmaPeak(MmaKind kind) => Peaks.TryGetValue(kind, out var peak) ? peak : double.NaN;

    /// <summary>The device the figures belong to.</summary>
    public static string Device { get; private set; } = "";

    /// <summary>Measures once per process: median of 20 copies of 1 GiB, timed with CUDA events.</summary>
    public static void Measure(CudaBackend gpu)
    {
        if (!double.IsNaN(CopyGBps))
            return;
        gpu.MakeCurrent();
        using var source = DeviceMemory.Allocate(CopyBytes);
        using var destination = DeviceMemory.Allocate(CopyBytes);
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        source.FillBytesAsync(0x5a, gpu.Stream);
        var times = new List<double>();
        for (var i = 0; i < 25; i++)
        {
            start.Record(gpu.Stream);
            source.CopyToAsync(destination, CopyBytes, gpu.Stream);
            end.Record(gpu.Stream);
            end.Synchronize();
            if (i >= 5)
                times.Add(CudaEvent.ElapsedMilliseconds(start, end));
        }
        times.Sort();
        CopyGBps = 2.0 * CopyBytes / (times[times.Count / 2] * 1e-3) / 1e9;
        Device = gpu.Device.Name;
        Console.WriteLine($"// roofline on {Device}: device-to-device copy {CopyGBps:F0} GB/s (read + write, 1 GiB, median of 20)");
        foreach (var kind in Enum.GetValues<MmaKind>())
            Peaks[kind] = MeasurePeak(gpu, kind, start, end);
        Console.WriteLine($"// roofline on {Device}: mma.sync peak {string.Join(", ", Peaks.Select(p => $"{p.Key} {p.Value:F0}"))} TFLOP/s (median of 10)");
    }

    /// <summary>Median rate of 10 launches of the peak kernel of <paramref name="kind"/>, after 3 warm-up launches.</summary>
    private static double MeasurePeak(CudaBackend gpu, MmaKind kind, CudaEvent start, CudaEvent end)
    {
        var function = gpu.Kernel("peak", $"peak_mma_{kind.ToString().ToLowerInvariant()}");
        // As many blocks as can be resident at once on every SM, so no SM idles and none runs a second wave.
        var blocks = function.MaxActiveBlocksPerSm(PeakBlock, 0) * gpu.Device.MultiprocessorCount;
        var geometry = new LaunchGeometry(new Dim3((uint)blocks), new Dim3(PeakBlock));
        using var sink = DeviceMemory.Allocate((long)blocks * PeakBlock * sizeof(float));
        var operationsPerMma = kind switch { MmaKind.Tf32 => 2.0 * 16 * 8 * 8, MmaKind.Bf16 => 2.0 * 16 * 8 * 16, _ => 2.0 * 16 * 8 * 32 };
        var operations = operationsPerMma * PeakChains * PeakIterations * blocks * (PeakBlock / 32);
        var times = new List<double>();
        for (var i = 0; i < 13; i++)
        {
            start.Record(gpu.Stream);
            function.Launch(geometry, gpu.Stream, PeakIterations, sink.Pointer);
            end.Record(gpu.Stream);
            end.Synchronize();
            if (i >= 3)
                times.Add(CudaEvent.ElapsedMilliseconds(start, end));
        }
        times.Sort();
        return operations / (times[times.Count / 2] * 1e-3) / 1e12;
    }
}
