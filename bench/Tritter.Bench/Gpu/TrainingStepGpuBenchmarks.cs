using BenchmarkDotNet.Attributes;
using Tritter.Core.Config;
using Tritter.Cuda;

namespace Tritter.Bench.Gpu;

/// <summary>
/// One GPU training step (forward, loss, backward, clipping, AdamW) of a preset at a batch shape, timed on the device.
/// TFLOP/s of <see cref="TrainingStepCase.Flops"/> over the mma peak is the model FLOPs utilisation. A shape ending in
/// <c>/lean</c> is <see cref="TrainingStepCase"/>'s lean step; each case prints the backend's peak device memory when it ends.
/// </summary>
public class TrainingStepGpuBenchmarks : GpuBenchmark
{
    private TrainingStepCase _case = null!;

    /// <summary>Preset, batch and sequence length, optionally <c>/lean</c>.</summary>
    [Params("small/8x512", "1B/1x2048", "1B/1x2048/lean")]
    public string Shape { get; set; } = "small/8x512";

    /// <summary>What the dense products round their operands to.</summary>
    [Params(MatmulPrecision.BFloat16, MatmulPrecision.Tf32)]
    public MatmulPrecision Precision { get; set; }

    /// <summary>Builds the model, trainer and a fixed random batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        OpenDevice();
        Gpu.MatmulPrecision = Precision;
        Gpu.Memory.ResetPeak();
        var parts = Shape.Split('/', 'x');
        _case = new TrainingStepCase(Gpu, TritterPresets.Get(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), lean: parts.Length > 3 && parts[3] == "lean");
    }

    /// <summary>One training step.</summary>
    [Benchmark]
    public void Step() => Timed(_case.Step, bytes: 0, flops: _case.Flops);

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// peak device memory of {Shape}: tensors {Gpu.Memory.PeakBytes / (1024.0 * 1024 * 1024):F2} GiB; " +
            $"in use now by the driver's count (scratch and contexts included) {Gpu.DeviceBytesInUse / (1024.0 * 1024 * 1024):F2} GiB");
        _case.Dispose();
        CloseDevice();
    }
}
