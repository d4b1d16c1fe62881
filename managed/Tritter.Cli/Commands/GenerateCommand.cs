using System.CommandLine;
using Tritter.Cli.Training;
using Tritter.Core.Backends;
using Tritter.Core.Checkpoints;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Cuda;
using Tritter.Inference;
using Tritter.Inference.Sampling;
using Tritter.Text;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter generate</c>: streams text from a trained run or checkpoint.</summary>
internal static class GenerateCommand
{
    // Cache slots per sequence with the KV-cache engine; past them the cache keeps attention sinks and a recent window.
    private const int CacheTokens = 4096;

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "A run directory (from 'tritter train') or a checkpoint directory.", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue.", DefaultValueFactory = _ => "def " };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most.", DefaultValueFactory = _ => 100 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int>("--top-k") { Description = "Sample from the K most likely tokens; 0 keeps all.", DefaultValueFactory = _ => 40 };
        var topP = new Option<double>("--top-p") { Description = "Sample from the most likely tokens covering probability P.", DefaultValueFactory = _ => 0.95 };
        var penalty = new Option<double>("--repetition-penalty") { Description = "Penalise tokens already in the context; 1 is off.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed: the same seed gives the same text.", DefaultValueFactory = _ => 0 };
        var rounding = new Option<string>("--rounding") { Description = "argmax: sample from the logits; knn: round the predicted embedding to the nearest token.", DefaultValueFactory = _ => "argmax" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var engine = new Option<string>("--engine")
        {
            Description = "kv-cache: prefill once, then one decode step per token over an INT4 KV-cache; recompute: the forward pass over the whole window per token (the reference); auto: kv-cache where the model's head_dim is a multiple of 32 (the cache's group), else recompute.",
            DefaultValueFactory = _ => "auto",
        };
        var stop = new Option<string[]>("--stop") { Description = "Stop before this text (repeatable); it is not printed.", AllowMultipleArgumentsPerToken = false };
        var latent = new Option<int>("--latent-steps")
        {
            Description = "Latent steps before each token: the predicted embedding is fed back unrounded this many times (KV-cache engine).",
            DefaultValueFactory = _ => 0,
        };
        var budget = new Option<string?>("--gpu-memory-budget")
        {
            Description = "Device memory the model may use, in bytes or with a unit (8GiB, 512MiB). The memory plan that 'tritter info --context 4096 " +
                "--gpu-memory GB' shows (the cache holds up to 4096 positions) decides what stays resident; the embedding table leaves the device first, then layers that do not fit stay in pinned host memory and are copied in each step, group by group, overlapped with compute " +
                "(same tokens, fewer tokens/s). CUDA only (--device cuda or auto with a GPU): on the CPU every layer is in host memory already, so it is refused there.",
        };
        var groupSize = new Option<int?>("--layer-group-size")
        {
            Description = "Layers per streamed copy with --gpu-memory-budget (default 1, which keeps the most layers resident); two groups are on the device at once.",
        };
        var command = new Command("generate", "Generate text from a trained model; tokens stream as they are produced.")
        {
            model, prompt, maxNew, temperature, topK, topP, penalty, seed, rounding, device, engine, stop, latent, budget, groupSize,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sampling = new SamplingOptions(parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP), parse.GetValue(penalty), parse.GetValue(seed));
            try
            {
                sampling.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new CliUsageException(e.Message.Split(" (Parameter", 2)[0]);
            }
            var mode = parse.GetValue(rounding)!.ToLowerInvariant() switch
            {
                "argmax" => TokenRounding.Logits,
                "knn" => TokenRounding.NearestEmbedding,
                var other => throw new CliUsageException($"--rounding {other}: expected argmax or knn"),
            };
            var engineName = parse.GetValue(engine)!.ToLowerInvariant();
            if (engineName is not ("auto" or "kv-cache" or "recompute"))
                throw new CliUsageException($"--engine {engineName}: expected auto, kv-cache or recompute");
            var latentSteps = parse.GetValue(latent);
            if (latentSteps < 0)
                throw new CliUsageException($"--latent-steps {latentSteps}: must be 0 or more");
            if (latentSteps > 0 && engineName == "recompute")
                throw new CliUsageException("--latent-steps needs the KV-cache engine, not --engine recompute");
            var stops = parse.GetValue(stop) ?? [];
            if (stops.Any(string.IsNullOrEmpty))
                throw new CliUsageException("--stop needs a non-empty text");
            var streaming = Streaming(parse.GetValue(budget), parse.GetValue(groupSize), parse.GetValue(device)!, engineName);
            return await GenerateAsync(parse.GetValue(model)!.FullName, parse.GetValue(prompt)!, parse.GetValue(maxNew), sampling, mode,
                parse.GetValue(device)!, engineName, stops, latentSteps, streaming, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The budget and group size of layer streaming, checked against the other options; null without a budget.</summary>
    private static (long Budget, int? GroupSize)? Streaming(string? budget, int? groupSize, string device, string engine)
    {
        if (groupSize is not null && budget is null)
            throw new CliUsageException("--layer-group-size: only with --gpu-memory-budget");
        if (budget is null)
            return null;
        if (!ByteSize.TryParse(budget, out var bytes))
            throw new CliUsageException($"--gpu-memory-budget {budget}: expected a positive number of bytes or a size such as 8GiB or 512MiB");
        if (groupSize is <= 0)
            throw new CliUsageException($"--layer-group-size {groupSize}: must be positive");
        if (device.Equals("cpu", StringComparison.OrdinalIgnoreCase))
            throw new CliUsageException("--gpu-memory-budget: layer streaming copies layers into GPU memory; with --device cpu every layer is in host memory already");
        if (engine == "recompute")
            throw new CliUsageException("--gpu-memory-budget needs the KV-cache engine, not --engine recompute");
        return (bytes, groupSize);
    }

    private static async Task<int> GenerateAsync(string path, string prompt, int maxNewTokens, SamplingOptions sampling, TokenRounding rounding,
        string device, string engine, string[] stops, int latentSteps, (long Budget, int? GroupSize)? streaming, CancellationToken cancellationToken)
    {
        var checkpoint = CheckpointLocation.Find(path);
        var tokenizerPath = new[] { Path.Combine(path, TrainingData.TokenizerFile), Path.Combine(Path.GetDirectoryName(checkpoint) ?? path, TrainingData.TokenizerFile) }
            .FirstOrDefault(File.Exists) ?? throw new CliUsageException($"--model {path}: no {TrainingData.TokenizerFile} beside the checkpoint");

        var config = ModelState.ReadConfig(checkpoint);
        var tokenizer = new[] { CodebookSizes.None, CodebookSizes.Default }.Select(c => MultiModalTokenizer.Load(tokenizerPath, c))
            .FirstOrDefault(t => t.Layout.Size == config.VocabSize)
            ?? throw new CliUsageException($"{tokenizerPath}: its vocabulary does not match the checkpoint's {config.VocabSize} ids");
        var (backend, _) = BackendChoice.Open(device);
        using var _ = backend;
        if (streaming is not null && backend is not CudaBackend)
            throw new CliUsageException($"--gpu-memory-budget: layer streaming needs a GPU, and --device {device} runs on {backend.Name}");
        // Within a budget, only the packed decode model goes to the GPU: the float32 checkpoint is read into host memory.
        using var host = streaming is null ? null : new CpuBackend();
        var modelBackend = host ?? backend;
        using var model = new TritterModel(modelBackend, config, seed: 0);
        ModelState.LoadModel(checkpoint, modelBackend, model);

        var encoded = tokenizer.Encode(prompt, Modality.Code);
        // The document's end marker would tell the model the text is over: continue from before it.
        var context = encoded.Ids[..^1];
        Console.Write(prompt);
        var (_, end) = SpecialTokens.Markers(Modality.Code);
        var useCache = engine == "kv-cache" || (engine == "auto" && config.HeadDim % KvCacheInt4Layer.GroupSize == 0) || latentSteps > 0;
        if (useCache && config.HeadDim % KvCacheInt4Layer.GroupSize != 0)
            throw new CliUsageException($"--engine kv-cache (or --latent-steps): head_dim {config.HeadDim} is not a multiple of {KvCacheInt4Layer.GroupSize} (the INT4 cache's group); use --engine recompute");
        if (streaming is not null && !useCache)
            throw new CliUsageException($"--gpu-memory-budget needs the KV-cache engine, which head_dim {config.HeadDim} (not a multiple of {KvCacheInt4Layer.GroupSize}) rules out");
        var cacheTokens = Math.Min(config.MaxPositionEmbeddings, CacheTokens);
        using var decoder = useCache ? DecodeModel.FromModel(model, backend, streaming is { } s ? Residency(config, cacheTokens, s.Budget, s.GroupSize) : null) : null;
        using var recompute = useCache ? null : new TextGenerator(backend, model, Math.Min(config.MaxPositionEmbeddings, 256));
        var tokens = decoder is not null
            ? new KvCacheGenerator(decoder, cacheTokens).GenerateAsync(context,
                new GenerationOptions(maxNewTokens, sampling) { Rounding = rounding, StopSequences = [[end]], LatentSteps = latentSteps }, cancellationToken)
            : recompute!.GenerateAsync(context, maxNewTokens, sampling, rounding, stopToken: end, cancellationToken);
        var textStops = new StopMatcher<char>(stops.Select(s => (IReadOnlyList<char>)s.ToCharArray()));
        var pending = new List<int>();
        await foreach (var id in tokens.ConfigureAwait(false))
        {
            if (tokenizer.Layout.ModalityOf(id) is not Modality.Text and not Modality.Code)
                continue;
            pending.Add(id);
            // Bytes of one character can span tokens: print only when the pending bytes form whole UTF-8 text.
            var bytes = tokenizer.DecodeBytes(pending.ToArray());
            if (IsCompleteUtf8(bytes))
            {
                pending.Clear();
                if (Print(textStops, System.Text.Encoding.UTF8.GetString(bytes)))
                    break;
            }
        }
        if (!textStops.Stopped)
        {
            if (pending.Count > 0)
                Print(textStops, tokenizer.Decode(pending.ToArray()));
            Console.Write(textStops.Flush().ToArray());
        }
        Console.WriteLine();
        return 0;
    }

    /// <summary>What the memory plan (the one 'tritter info' shows) keeps resident and streams; it is told on stderr.</summary>
    private static LayerResidency Residency(TritterConfig config, int cacheTokens, long budget, int? groupSize)
    {
        var plan = InferenceMemoryPlanner.Plan(config, cacheTokens, budget, KvPrecision.Int4, groupSize);
        if (!plan.Fits)
            throw new CliUsageException($"--gpu-memory-budget {ByteSize.Format(budget)}: {string.Join("; ", plan.Explanation)}");
        Console.Error.WriteLine(plan.StreamedLayers == 0
            ? $"memory plan: all {config.NumLayers} layers resident{(plan.EmbeddingOnHost ? ", embedding table in host memory" : "")}, {ByteSize.Format(plan.DeviceBytes)} of {ByteSize.Format(budget)}"
            : $"memory plan: {plan.ResidentLayers} layers resident, {plan.StreamedLayers} streamed in groups of {plan.LayerGroupSize}, " +
              $"{ByteSize.Format(plan.HostToDeviceBytesPerToken)} copied per token, {ByteSize.Format(plan.DeviceBytes)} of {ByteSize.Format(budget)}");
        return LayerResidency.FromPlan(plan, config.NumLayers);
    }

    /// <summary>Prints what the stop texts release of <paramref name="text"/>; true once one of them has matched.</summary>
    private static bool Print(StopMatcher<char> stops, string text)
    {
        foreach (var c in text)
        {
            Console.Write(stops.Push(c).ToArray());
            if (stops.Stopped)
                return true;
        }
        return false;
    }
    private static bool IsCompleteUtf8(byte[] bytes)
    {
        try
        {
            _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            return false;
        }
    }
}
