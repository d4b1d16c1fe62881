using Tritter.Cuda;
using Tritter.Native.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// The device's measured limits, taken by the suite itself at start on the same device: device-to-device copy
/// bandwidth (bytes read plus written), as PyTorch's <c>copy_</c> of 1 GiB measures it in the anchor script.
/// </summary>
public static class Roofline
{
    private const long CopyBytes = 1L << 30;

    /// <summary>Copy bandwidth in GB/s (read + write), or NaN before <see cref="Measure"/>.</summary>
    public static double CopyGBps { get; private set; } = double.NaN;

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
    }
}
