using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Tritter.Cuda;
using Tritter.Native.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// Base of the GPU suites: opens the device (or skips the suite with the probe's reason), and times each invocation
/// with CUDA events so that the columns report device time, not host time.
/// </summary>
[Config(typeof(GpuColumnsConfig))]
public abstract class GpuBenchmark
{
    // kernels/hold.cu: long enough for the host to queue the start event, the work and the end event behind it.
    private const long HoldNanoseconds = 50_000;

    private CudaEvent? _start;
    private CudaEvent? _end;

    /// <summary>The backend; valid after <see cref="OpenDevice"/>.</summary>
    protected CudaBackend Gpu { get; private set; } = null!;

    /// <summary>Opens the GPU and measures the copy roofline once per process.</summary>
    protected void OpenDevice()
    {
        var probe = CudaProbe.Result;
        if (!probe.IsUsable)
            throw new InvalidOperationException($"GPU suite skipped: {probe.Reason}");
        Gpu = CudaBackend.Open();
        _start = CudaEvent.Create();
        _end = CudaEvent.Create();
        Roofline.Measure(Gpu);
    }

    /// <summary>Releases the device.</summary>
    protected void CloseDevice()
    {
        _start?.Dispose();
        _end?.Dispose();
        Gpu?.Dispose();
    }

    /// <summary>
    /// Runs <paramref name="work"/> between two events and records its device time with the bytes and flops it must move
    /// and do, over <paramref name="operations"/> op launches (a replayed graph holds many). A 50 us device-side hold
    /// in front of the start event keeps the host's launch latency out of the device time.
    /// </summary>
    protected void Timed(Action work, long bytes, double flops = 0, int operations = 1, [CallerMemberName] string method = "")
    {
        Gpu.MakeCurrent();
        Gpu.Kernel("hold", "hold").Launch(new LaunchGeometry(new Dim3(1), new Dim3(1)), Gpu.Stream, HoldNanoseconds);
        _start!.Record(Gpu.Stream);
        work();
        _end!.Record(Gpu.Stream);
        _end.Synchronize();
        DeviceTimings.Record(DeviceTimings.Key(this, method), new DeviceSample(CudaEvent.ElapsedMilliseconds(_start, _end), bytes, flops, operations));
    }
}
