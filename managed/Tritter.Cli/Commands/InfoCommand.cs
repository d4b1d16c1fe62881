using System.CommandLine;
using System.Globalization;
using Tritter.Core.Checkpoints;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Cpu;
using Tritter.Cuda;

namespace Tritter.Cli.Commands;

/// <summary>
/// <c>tritter info</c>: the devices found and why a GPU is or is not used; for a preset or a checkpoint, its
/// configuration, parameter count and memory budget (generation and training) against a target GPU.
/// </summary>
internal static class InfoCommand
{
    private static readonly int[] TabulatedContexts = [4096, 32768, 131072];

    public static Command Create()
    {
        var presets = new Option<bool>("--presets") { Description = "Also list every preset with its shape and parameter count." };
        var preset = new Option<string?>("--preset") { Description = $"Show the configuration and memory budget of a preset: {string.Join(", ", TritterPresets.Names)}." };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Show the configuration and memory budget of a run directory (from 'tritter train') or a checkpoint." };
        var gpuMemory = new Option<double>("--gpu-memory") { Description = "Target GPU memory in GB (GiB, as GPU memory is sold) the budget is checked against.", DefaultValueFactory = _ => 16 };
        var context = new Option<int?>("--context") { Description = "Context length the memory plan is made for (default: the model's max_position_embeddings)." };
        var groupSize = new Option<int?>("--layer-group-size") { Description = "Layers per streamed copy when layers must be streamed (default: 1, which keeps the most layers resident)." };
        var batch = new Option<int>("--batch") { Description = "Sequences per micro-batch for the training estimate.", DefaultValueFactory = _ => 8 };
        var sequence = new Option<int>("--seq-len") { Description = "Tokens per sequence for the training estimate.", DefaultValueFactory = _ => 64 };
        var command = new Command("info",
            "Show the CPU and GPUs found, and why a GPU is or is not used; with --preset or --model, the model's configuration, parameters and " +
            "memory budget: packed weights, KV-cache at 4K/32K/128K in fp16 and INT4, activations, totals against --gpu-memory, the plan for " +
            "--context (what is resident, whether layers are streamed) and the training estimate for --batch x --seq-len.")
        {
            presets, preset, model, gpuMemory, context, groupSize, batch, sequence,
        };
        command.SetAction(parse =>
        {
            var config = ModelConfig(parse.GetValue(preset), parse.GetValue(model));
            var budgetGb = parse.GetValue(gpuMemory);
            if (!(budgetGb > 0) || double.IsInfinity(budgetGb))
                throw new CliUsageException($"--gpu-memory {budgetGb}: must be a positive number of GB");
            if (parse.GetValue(context) is <= 0)
                throw new CliUsageException($"--context {parse.GetValue(context)}: must be positive");
            if (parse.GetValue(groupSize) is <= 0)
                throw new CliUsageException($"--layer-group-size {parse.GetValue(groupSize)}: must be positive");
            if (parse.GetValue(batch) <= 0 || parse.GetValue(sequence) <= 0)
                throw new CliUsageException($"--batch {parse.GetValue(batch)} --seq-len {parse.GetValue(sequence)}: must be positive");
            PrintDevices();
            if (parse.GetValue(presets))
                PrintPresets();
            if (config is not null)
            {
                var budget = (long)(budgetGb * ByteSize.GiB);
                PrintModel(config.Value.Name, config.Value.Config);
                PrintInference(config.Value.Config, budget, parse.GetValue(context) ?? config.Value.Config.MaxPositionEmbeddings, parse.GetValue(groupSize));
                PrintTraining(config.Value.Config, budget, parse.GetValue(batch), parse.GetValue(sequence));
            }
            return 0;
        });
        return command;
    }

    private static (string Name, TritterConfig Config)? ModelConfig(string? preset, DirectoryInfo? model)
    {
        if (preset is not null && model is not null)
            throw new CliUsageException("--preset and --model: give one of them");
        if (model is not null)
        {
            var checkpoint = CheckpointLocation.Find(model.FullName);
            return ($"checkpoint {checkpoint}", ModelState.ReadConfig(checkpoint));
        }
        if (preset is null)
            return null;
        try
        {
            return ($"preset {preset}", TritterPresets.Get(preset));
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--preset {preset}: {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    private static void PrintDevices()
    {
        Console.WriteLine($"cpu: {Environment.ProcessorCount} threads, {CpuBackend.SimdDescription}");
        var probe = CudaProbe.Result;
        Console.WriteLine($"cuda driver: {probe.DriverVersion ?? "none"}");
        foreach (var device in probe.Devices)
            Console.WriteLine($"gpu {device.Ordinal}: {device.Name}, {device.SmName}, {device.MultiprocessorCount} SMs, {device.TotalMemoryBytes / (1L << 30)} GiB");
        Console.WriteLine($"embedded kernels: {(EmbeddedKernels.ModuleNames.Count == 0 ? "none" : string.Join(", ", EmbeddedKernels.ModuleNames))}");
        if (EmbeddedKernels.Targets.Count > 0)
            Console.WriteLine($"embedded kernel targets: {string.Join(", ", EmbeddedKernels.Targets)} (each device loads the highest it runs)");
        Console.WriteLine($"gpu: {(probe.IsUsable ? "found" : "not used")}: {probe.Reason}");
        // What --device auto (BackendChoice) picks for train and generate.
        Console.WriteLine(probe.IsUsable
            ? "backend: cuda (train and generate use this GPU; --device cpu for the CPU)"
            : $"backend: cpu ({probe.Reason})");
    }

    private static void PrintPresets()
    {
        Console.WriteLine();
        Console.WriteLine("| preset | hidden | layers | heads | KV heads | intermediate | vocab | parameters |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var name in TritterPresets.Names)
        {
            var c = TritterPresets.Get(name);
            Line($"| {name} | {c.HiddenSize} | {c.NumLayers} | {c.NumHeads} | {c.NumKvHeads} | {c.IntermediateSize} | {c.VocabSize} | {c.ParameterCount:N0} |");
        }
    }

    private static void PrintModel(string name, TritterConfig c)
    {
        Console.WriteLine();
        Console.WriteLine(Invariant($"model ({name}): hidden {c.HiddenSize}, {c.NumLayers} layers, {c.NumHeads} heads ({c.NumKvHeads} KV, head dim {c.HeadDim}), intermediate {c.IntermediateSize}, ") +
            Invariant($"vocab {c.VocabSize}, {c.MaxPositionEmbeddings} positions, {(c.UseBitnet ? $"BitNet ({c.QuantizationScheme} scheme)" : "no BitNet")}, ") +
            Invariant($"attention {c.AttentionMode}, alpha {c.EmbeddingPredictionAlpha}"));
        Line($"parameters: {c.ParameterCount:N0}");
    }

    private static void PrintInference(TritterConfig config, long budget, int context, int? groupSize)
    {
        var m = new InferenceMemory(config);
        var weights = m.WeightBytes();
        var activations = m.DecodeActivationBytes();
        var fixedBytes = weights + activations + InferenceMemoryPlanner.RuntimeReserveBytes;
        Console.WriteLine();
        Console.WriteLine($"memory for generation, as the decode engine stores the model (target GPU: {ByteSize.Format(budget)}):");
        Console.WriteLine("| part | bytes |");
        Console.WriteLine("|---|---:|");
        Line($"| {(config.UseBitnet ? "packed projections (2-bit codes and scales)" : "projections (float32)")}, {config.NumLayers} layers | {ByteSize.Format(m.ProjectionBytes)} |");
        Line($"| biases and LayerNorms | {ByteSize.Format(m.BiasAndNormBytes)} |");
        Line($"| output head{(config.UseBitnet ? " (packed)" : "")} | {ByteSize.Format(m.HeadBytes)} |");
        Line($"| embedding table (float32) | {ByteSize.Format(m.EmbeddingBytes)} |");
        Line($"| **weights** | **{ByteSize.Format(weights)}** |");
        Line($"| decode activations (one token) | {ByteSize.Format(activations)} |");
        Line($"| runtime reserve (CUDA context, kernels) | {ByteSize.Format(InferenceMemoryPlanner.RuntimeReserveBytes)} |");
        Console.WriteLine();
        Console.WriteLine("| context | KV-cache fp16 | KV-cache INT4 | total fp16 | total INT4 |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var positions in TabulatedContexts)
        {
            var fp16 = m.KvCacheBytes(KvPrecision.Fp16, positions);
            long? int4 = m.SupportsInt4 ? m.KvCacheBytes(KvPrecision.Int4, positions) : null;
            Console.WriteLine(Invariant($"| {positions / 1024}K | {ByteSize.Format(fp16)} | {(int4 is { } b ? ByteSize.Format(b) : "n/a (head dim)")} | ") +
                Invariant($"{Total(fixedBytes + fp16, budget)} | {(int4 is { } i ? Total(fixedBytes + i, budget) : "n/a")} |"));
        }
        var plan = InferenceMemoryPlanner.Plan(config, context, budget, layerGroupSize: groupSize);
        Console.WriteLine();
        Line($"plan for a {context:N0}-token context in {ByteSize.Format(budget)}: {(plan.Fits ? plan.StreamedLayers > 0 ? "fits with layer streaming" : "fits" : "does not fit")}");
        foreach (var line in plan.Explanation)
            Console.WriteLine($"  {line}");
    }

    private static void PrintTraining(TritterConfig config, long budget, int batch, int sequence)
    {
        var sized = config with { MaxPositionEmbeddings = Math.Max(config.MaxPositionEmbeddings, sequence) };
        var t = TrainingMemoryEstimate.For(sized, batch, sequence);
        var recomputed = TrainingMemoryEstimate.For(sized, batch, sequence, recomputeActivations: true);
        var lean = TrainingMemoryEstimate.For(sized, batch, sequence, recomputeActivations: true, momentType: Core.Tensors.DType.BFloat16);
        Console.WriteLine();
        Line($"memory for training at batch {batch} x {sequence} (float32 unless a row says otherwise, as the trainer allocates it; peak = total):");
        Console.WriteLine("| part | bytes |");
        Console.WriteLine("|---|---:|");
        Line($"| parameters | {ByteSize.Format(t.ParameterBytes)} |");
        Line($"| gradients | {ByteSize.Format(t.GradientBytes)} |");
        Line($"| AdamW moments | {ByteSize.Format(t.OptimizerBytes)} |");
        Line($"| effective-weight buffers | {ByteSize.Format(t.EffectiveWeightBytes)} |");
        Line($"| activations | {ByteSize.Format(t.ActivationBytes)} |");
        Line($"| **total** | **{Total(t.TotalBytes, budget)}** |");
        Line($"| activations with recomputation (one block's, rerun before its backward) | {ByteSize.Format(recomputed.ActivationBytes)} |");
        Line($"| **total with recomputation** | **{Total(recomputed.TotalBytes, budget)}** |");
        Line($"| AdamW moments in bfloat16 | {ByteSize.Format(lean.OptimizerBytes)} |");
        Line($"| **total with recomputation and bfloat16 moments** | **{Total(lean.TotalBytes, budget)}** |");
    }

    private static string Total(long bytes, long budget) =>
        $"{ByteSize.Format(bytes)} ({(bytes <= budget ? "fits" : "over")} {ByteSize.Format(budget)})";

    private static void Line(FormattableString text) => Console.WriteLine(Invariant(text));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
