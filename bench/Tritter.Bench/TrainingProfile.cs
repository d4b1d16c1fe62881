using System.Diagnostics;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Cuda;
using Tritter.Native.Cuda;

namespace Tritter.Bench;

/// <summary>
/// <c>profile-train</c>: training steps of a preset on the GPU (the <see cref="TrainingStepCase"/> that <c>TrainingStepGpuBenchmarks</c> times), host-timed,
/// then one more inside a profiler range, so that <c>ncu --profile-from-start off</c> or <c>nsys --capture-range=cudaProfilerApi</c>
/// report every kernel of one step (forward, loss, backward, clipping, AdamW) and nothing of the setup.
/// </summary>
internal static class TrainingProfile
{
    /// <summary>The usage line.</summary>
    public const string Usage = "Tritter.Bench profile-train [--preset 1B] [--batch 1] [--sequence 2048] [--lean] [--paper] [--matmul-precision bf16|tf32] [--wgmma] [--steps 5]";

    /// <summary>Runs the command on <paramref name="args"/> (after its name); returns the exit code.</summary>
    public static int Run(string[] commandLine)
    {
        var args = new ProfileArguments(commandLine);
        if (args.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var probe = CudaProbe.Result;
        if (!probe.IsUsable)
        {
            Console.Error.WriteLine($"profile-train needs a GPU: {probe.Reason}");
            return 1;
        }
        var preset = args.Option("--preset", "1B");
        var config = TritterPresets.Get(preset);
        if (args.Has("--paper"))
            config = config with { QuantizationScheme = QuantizationScheme.Paper };
        var (batch, sequence) = (args.Int("--batch", 1), args.Int("--sequence", 2048));
        var timedSteps = args.Int("--steps", 5);
        var lean = args.Has("--lean");

        var precisionName = args.Option("--matmul-precision", "bf16");
        if (!MatmulPrecisionNames.TryParse(precisionName, out var precision))
            throw new ArgumentException($"--matmul-precision {precisionName}: expected {MatmulPrecisionNames.Expected}");

        using var gpu = CudaBackend.Open();
        gpu.MatmulPrecision = precision;
        gpu.UseWgmma = args.Has("--wgmma");
        using var step = new TrainingStepCase(gpu, config, batch, sequence, lean);
        step.Step();
        gpu.Synchronize();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < timedSteps; i++)
            step.Step();
        gpu.Synchronize();
        var perStep = clock.Elapsed.TotalMilliseconds / timedSteps;
        Console.WriteLine($"{config.QuantizationScheme} {preset} {batch}x{sequence}{(lean ? " lean" : "")} {gpu.MatmulPrecision}{(gpu.UseWgmma ? " wgmma" : "")}: training step {perStep:F1} ms " +
            $"({batch * sequence * 1000 / perStep:F0} tokens/s, {step.Flops / perStep / 1e9:F0} model TFLOP/s), host-timed over {timedSteps} steps; " +
            $"peak tensor memory {ByteSize.Format(gpu.Memory.PeakBytes)}, device memory in use {ByteSize.Format(gpu.DeviceBytesInUse)} (scratch and the context included)");
        using (new CudaProfilerRange())
        {
            step.Step();
            gpu.Synchronize();
        }
        return 0;
    }
}
