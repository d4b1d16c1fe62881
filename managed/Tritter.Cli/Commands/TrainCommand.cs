using System.CommandLine;
using System.Globalization;
using Tritter.Cli.Training;
using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Tensors;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Cuda;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter train</c>: quantisation-aware training on curated token shards, with checkpoints and resume.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model preset: {string.Join(", ", TritterPresets.Names)}.", DefaultValueFactory = _ => "small" };
        var config = new Option<FileInfo?>("--config") { Description = "A config.json to train instead of a preset." };
        var data = new Option<DirectoryInfo>("--data") { Description = "Curated directory with tokens-*.bin shards and tokenizer.json (from 'tritter curate').", Required = true };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "tokenizer.json, when it is not in the data directory." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run directory: checkpoint/, metrics.jsonl, loss.png, tokenizer.json.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint (same seed and data give the same losses)." };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps to reach.", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch") { Description = "Sequences per micro-batch.", DefaultValueFactory = _ => 8 };
        var sequence = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 64 };
        var accumulation = new Option<int>("--grad-accum") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => 1 };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate, reached after --warmup steps.", DefaultValueFactory = _ => 3e-3 };
        var minLearningRate = new Option<double>("--min-lr") { Description = "Learning rate at the last step.", DefaultValueFactory = _ => 3e-4 };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 20 };
        var schedule = new Option<string>("--schedule") { Description = "Decay after warm-up: cosine, or two-stage (BitNet: halve at mid-run, no weight decay after).", DefaultValueFactory = _ => "cosine" };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW decoupled weight decay (not on biases and norms).", DefaultValueFactory = _ => 0.1 };
        var clip = new Option<double>("--clip") { Description = "Global gradient-norm clip; 0 disables.", DefaultValueFactory = _ => 1.0 };
        var alpha = new Option<string>("--alpha")
        {
            Description = "Weight of the embedding-prediction MSE in the hybrid loss alpha MSE + (1 - alpha) CE (0 = cross-entropy only): a constant " +
                "such as 0.3, or a curriculum START:FINAL@STEPS[:linear|cosine], e.g. 0:0.3@2000 ramps linearly from 0 to 0.3 over 2000 steps and " +
                "stays at 0.3. Saved in the checkpoint; --resume continues the stored one.",
            DefaultValueFactory = _ => "0",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the initialisation and the data sampler.", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out loss and perplexity every N steps (0: never).", DefaultValueFactory = _ => 50 };
        var saveEvery = new Option<int>("--save-every") { Description = "Checkpoint every N steps (also at the end and on Ctrl-C).", DefaultValueFactory = _ => 100 };
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Keep one layer's activations and recompute each block in the backward pass: about a third more compute, a layers-fold cut of activation memory.",
        };
        var optimizerState = new Option<string>("--optimizer-state")
        {
            Description = "AdamW moments: f32, or bf16 for half the optimizer memory (updated in float32, stored rounded).",
            DefaultValueFactory = _ => "f32",
        };
        var matmulPrecision = new Option<string>("--matmul-precision")
        {
            Description = "What the GPU's dense products and attention round float32 operands to: bf16 (twice TF32's tensor-core rate, what bf16 autocast does; a 1B step at 2,048 tokens 1.8x faster on an H100: 95 against 174 ms in one run) or tf32 (8x finer). The CPU computes in float32 either way.",
            DefaultValueFactory = _ => "bf16",
        };

        var command = new Command("train", "Train a model on curated token shards. Ctrl-C saves a checkpoint; --resume continues it.")
        {
            preset, config, data, tokenizer, output, resume, steps, batch, sequence, accumulation, learningRate, minLearningRate,
            warmup, schedule, weightDecay, clip, alpha, seed, device, evalEvery, saveEvery, recompute, optimizerState, matmulPrecision,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var alphaSchedule = ParseAlpha(parse.GetValue(alpha)!);
            var settings = new TrainSettings(
                parse.GetValue(preset)!, parse.GetValue(config), parse.GetValue(data)!, parse.GetValue(tokenizer), parse.GetValue(output)!,
                parse.GetValue(resume), parse.GetValue(device)!, ParseMatmulPrecision(parse.GetValue(matmulPrecision)!), alphaSchedule,
                new TrainingRunOptions
                {
                    Optimizer = new TrainingOptions
                    {
                        Schedule = new LearningRateSchedule(parse.GetValue(learningRate), parse.GetValue(minLearningRate), parse.GetValue(warmup), parse.GetValue(steps),
                            ParseSchedule(parse.GetValue(schedule)!)),
                        WeightDecay = parse.GetValue(weightDecay),
                        Alpha = alphaSchedule,
                        MaxGradientNorm = parse.GetValue(clip),
                        RecomputeActivations = parse.GetValue(recompute),
                        MomentType = parse.GetValue(optimizerState) switch
                        {
                            "f32" => DType.Float32,
                            "bf16" => DType.BFloat16,
                            var other => throw new CliUsageException($"--optimizer-state {other}: expected f32 or bf16"),
                        },
                    },
                    Steps = parse.GetValue(steps),
                    Batch = parse.GetValue(batch),
                    SequenceLength = parse.GetValue(sequence),
                    GradientAccumulation = parse.GetValue(accumulation),
                    Seed = parse.GetValue(seed),
                    EvalEvery = parse.GetValue(evalEvery),
                    SaveEvery = parse.GetValue(saveEvery),
                });
            return Task.FromResult(Train(settings, cancellationToken));
        });
        return command;
    }

    /// <summary>The command-line flag of each validated <see cref="TrainingRunOptions"/> property.</summary>
    private static readonly Dictionary<string, string> OptionFlags = new(StringComparer.Ordinal)
    {
        [nameof(TrainingRunOptions.Steps)] = "--steps",
        [nameof(TrainingRunOptions.Batch)] = "--batch",
        [nameof(TrainingRunOptions.SequenceLength)] = "--seq-len",
        [nameof(TrainingRunOptions.GradientAccumulation)] = "--grad-accum",
        [nameof(TrainingRunOptions.EvalEvery)] = "--eval-every",
        [nameof(TrainingRunOptions.SaveEvery)] = "--save-every",
    };

    private static AlphaSchedule ParseAlpha(string text)
    {
        try
        {
            return AlphaSchedule.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"--alpha: {e.Message}");
        }
    }

    private static ScheduleKind ParseSchedule(string name) => name.ToLowerInvariant() switch
    {
        "cosine" => ScheduleKind.Cosine,
        "two-stage" => ScheduleKind.BitnetTwoStage,
        _ => throw new CliUsageException($"--schedule {name}: expected cosine or two-stage"),
    };

    private sealed record TrainSettings(string Preset, FileInfo? Config, DirectoryInfo Data, FileInfo? Tokenizer, DirectoryInfo Output,
        bool Resume, string Device, MatmulPrecision MatmulPrecision, AlphaSchedule Alpha, TrainingRunOptions Run);

    private static MatmulPrecision ParseMatmulPrecision(string value) =>
        MatmulPrecisionNames.TryParse(value, out var precision)
            ? precision
            : throw new CliUsageException($"--matmul-precision {value}: expected {MatmulPrecisionNames.Expected}");

    private static int Train(TrainSettings s, CancellationToken cancellationToken)
    {
        try
        {
            s.Run.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            var flag = e.ParamName is { } name && OptionFlags.TryGetValue(name, out var f) ? f : e.ParamName;
            throw new CliUsageException($"{flag} {e.ActualValue}: out of range");
        }
        var (backend, why) = BackendChoice.Open(s.Device);
        using var _ = backend;
        if (backend is CudaBackend gpu)
        {
            gpu.MatmulPrecision = s.MatmulPrecision;
            why += $", {s.MatmulPrecision} products";
        }
        var data = TrainingData.Load(s.Data.FullName, s.Tokenizer?.FullName);
        var config = LoadConfig(s, data);
        var directory = s.Output.FullName;
        Console.WriteLine($"backend: {backend.Name} ({why})");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {data.Documents} documents, {data.Train.Length} training and {data.Eval.Length} held-out tokens; vocabulary {data.Tokenizer.Layout.Size}"));

        using var run = s.Resume
            ? Resume(backend, s, directory, data)
            : StartFresh(backend, config, s, directory, data);
        var parameters = run.Model.Parameters.Sum(p => p.Value.ElementCount);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model: {run.Model.Config.NumLayers} layers, hidden {run.Model.Config.HiddenSize}, {parameters / 1e6:F2} M parameters; from step {run.Step} to {s.Run.Steps}"));

        File.Copy(data.TokenizerPath, Path.Combine(directory, TrainingData.TokenizerFile), overwrite: true);
        using var metrics = MetricsLog.Open(Path.Combine(directory, "metrics.jsonl"), run.Step);
        var line = new ProgressLine(s.Run.Steps, run.Step);
        var failed = false;
        try
        {
            run.Run(new Reporter(e =>
            {
                var tokensPerSecond = e.Step.Tokens / Math.Max(1e-9, e.Step.Elapsed.TotalSeconds);
                metrics.Append(new StepMetrics(e.Step.Step, e.Step.Loss, e.Step.LearningRate, e.Step.GradientNorm, tokensPerSecond, e.EvalLoss, e.Step.Skipped, e.Step.Alpha));
                line.Report(e, tokensPerSecond);
            }), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine();
            Console.WriteLine($"interrupted at step {run.Step}: checkpoint saved; continue with --resume --out {directory}");
            failed = true;
            throw;
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine();
            Console.Error.WriteLine($"tritter: {e.Message}");
            failed = true;
            return 1;
        }
        finally
        {
            WriteRecords(directory, metrics, line, run, failed);
        }
        return 0;
    }

    private static TrainingRun StartFresh(Core.Backends.IBackend backend, TritterConfig config, TrainSettings s, string directory, TrainingData data)
    {
        if (TrainingRun.LatestCheckpoint(directory) is not null)
            throw new CliUsageException($"--out {directory} already holds a run; continue it with --resume or choose another directory");
        return TrainingRun.Start(backend, config, s.Run, directory, data.Train, data.Eval);
    }

    private static TrainingRun Resume(Core.Backends.IBackend backend, TrainSettings s, string directory, TrainingData data)
    {
        var explicitConfig = s.Config is null ? null : TritterConfigFile.Read(s.Config.FullName);
        return TrainingRun.Resume(backend, explicitConfig, s.Run, directory, data.Train, data.Eval);
    }

    private static TritterConfig LoadConfig(TrainSettings s, TrainingData data)
    {
        TritterConfig config;
        try
        {
            config = s.Config is not null ? TritterConfigFile.Read(s.Config.FullName) : TritterPresets.Get(s.Preset);
        }
        catch (ArgumentException e) when (s.Config is null)
        {
            throw new CliUsageException($"--preset {s.Preset}: {e.Message.Split(" (Parameter", 2)[0]}");
        }
        // The vocabulary is the tokenizer's; the positions are at least the sequence length.
        return config with
        {
            VocabSize = data.Tokenizer.Layout.Size,
            EmbeddingPredictionAlpha = s.Alpha.Final,
            MaxPositionEmbeddings = Math.Max(config.MaxPositionEmbeddings, s.Run.SequenceLength),
        };
    }

    private static void WriteRecords(string directory, MetricsLog metrics, ProgressLine line, TrainingRun run, bool failed)
    {
        var training = metrics.History.Where(m => !m.Skipped).Select(m => (m.Step, m.Loss)).ToList();
        var evaluation = metrics.History.Where(m => m.EvalLoss is not null).Select(m => (m.Step, m.EvalLoss!.Value)).ToList();
        if (training.Count > 0)
            LossPlot.Save(Path.Combine(directory, "loss.png"), training, evaluation, $"Tritter {run.Model.Config.NumLayers}x{run.Model.Config.HiddenSize}");
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"steps: {run.Step}{(failed ? " (stopped early)" : "")}\n" +
            $"first loss: {(training.Count > 0 ? training[0].Loss : double.NaN):F4}\n" +
            $"last loss: {(training.Count > 0 ? training[^1].Loss : double.NaN):F4}\n" +
            $"last held-out loss: {(evaluation.Count > 0 ? evaluation[^1].Item2 : double.NaN):F4}\n" +
            $"tokens/s this session: {line.Tokens / Math.Max(1e-9, line.Elapsed.TotalSeconds):F0}\n" +
            $"peak memory of the backend: {ByteSize.Format(run.Model.Backend.Memory.PeakBytes)}\n");
        if (run.Model.Backend is CudaBackend gpu)
            summary += $"device memory in use: {ByteSize.Format(gpu.DeviceBytesInUse)} (scratch buffers and the CUDA context included)\n";
        File.WriteAllText(Path.Combine(directory, "summary.txt"), summary);
        Console.Write(summary);
        Console.WriteLine($"records: {Path.Combine(directory, "metrics.jsonl")}, {Path.Combine(directory, "loss.png")}");
    }

    private sealed class Reporter(Action<TrainingRunEvent> report) : IProgress<TrainingRunEvent>
    {
        public void Report(TrainingRunEvent value) => report(value);
    }
}
