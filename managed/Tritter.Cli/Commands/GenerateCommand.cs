using System.CommandLine;
using Tritter.Cli.Training;
using Tritter.Core.Checkpoints;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Inference;
using Tritter.Inference.Sampling;
using Tritter.Text;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter generate</c>: streams text from a trained run or checkpoint.</summary>
internal static class GenerateCommand
{
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
        var command = new Command("generate", "Generate text from a trained model; tokens stream as they are produced.")
        {
            model, prompt, maxNew, temperature, topK, topP, penalty, seed, rounding, device,
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
            return await GenerateAsync(parse.GetValue(model)!.FullName, parse.GetValue(prompt)!, parse.GetValue(maxNew), sampling, mode,
                parse.GetValue(device)!, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> GenerateAsync(string path, string prompt, int maxNewTokens, SamplingOptions sampling, TokenRounding rounding,
        string device, CancellationToken cancellationToken)
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
        using var model = new TritterModel(backend, config, seed: 0);
        ModelState.LoadModel(checkpoint, backend, model);
        using var generator = new TextGenerator(backend, model, Math.Min(config.MaxPositionEmbeddings, 256));

        var encoded = tokenizer.Encode(prompt, Modality.Code);
        // The document's end marker would tell the model the text is over: continue from before it.
        var context = encoded.Ids[..^1];
        Console.Write(prompt);
        var (_, end) = SpecialTokens.Markers(Modality.Code);
        var pending = new List<int>();
        await foreach (var id in generator.GenerateAsync(context, maxNewTokens, sampling, rounding, stopToken: end, cancellationToken).ConfigureAwait(false))
        {
            if (tokenizer.Layout.ModalityOf(id) is not Modality.Text and not Modality.Code)
                continue;
            pending.Add(id);
            // Bytes of one character can span tokens: print only when the pending bytes form whole UTF-8 text.
            var bytes = tokenizer.DecodeBytes(pending.ToArray());
            if (IsCompleteUtf8(bytes))
            {
                Console.Write(System.Text.Encoding.UTF8.GetString(bytes));
                pending.Clear();
            }
        }
        if (pending.Count > 0)
            Console.Write(tokenizer.Decode(pending.ToArray()));
        Console.WriteLine();
        return 0;
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
