using System.CommandLine;
using Tritter.Cpu;
using Tritter.Cuda;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter info</c>: the devices found and why a GPU is or is not used.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var presets = new Option<bool>("--presets") { Description = "Also list every preset with its shape and parameter count." };
        var command = new Command("info", "Show the CPU and GPUs found, and why a GPU is or is not used.") { presets };
        command.SetAction(parse =>
        {
            Console.WriteLine($"cpu: {Environment.ProcessorCount} threads, {CpuBackend.SimdDescription}");
            var probe = CudaProbe.Result;
            Console.WriteLine($"cuda driver: {probe.DriverVersion ?? "none"}");
            foreach (var device in probe.Devices)
                Console.WriteLine($"gpu {device.Ordinal}: {device.Name}, {device.SmName}, {device.MultiprocessorCount} SMs, {device.TotalMemoryBytes / (1L << 30)} GiB");
            Console.WriteLine($"embedded kernels: {(EmbeddedKernels.ModuleNames.Count == 0 ? "none" : string.Join(", ", EmbeddedKernels.ModuleNames))}");
            Console.WriteLine($"gpu: {(probe.IsUsable ? "found" : "not used")}: {probe.Reason}");
            // The model graph needs every op family; the CUDA backend gains them kernel by kernel (docs/decisions.md).
            Console.WriteLine(probe.IsUsable
                ? "backend: cpu (the CUDA backend runs the op families it has kernels for; the model graph runs on the CPU until it has all)"
                : $"backend: cpu ({probe.Reason})");
            if (parse.GetValue(presets))
                PrintPresets();
            return 0;
        });
        return command;
    }

    private static void PrintPresets()
    {
        Console.WriteLine();
        Console.WriteLine("| preset | hidden | layers | heads | KV heads | intermediate | vocab | parameters |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var name in Core.Config.TritterPresets.Names)
        {
            var c = Core.Config.TritterPresets.Get(name);
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {name} | {c.HiddenSize} | {c.NumLayers} | {c.NumHeads} | {c.NumKvHeads} | {c.IntermediateSize} | {c.VocabSize} | {c.ParameterCount:N0} |"));
        }
    }
}
