using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Spectre.Console;
using Tritter.Data.Curation;
using Tritter.Text;
using Tritter.Text.Bpe;
using Tritter.Text.Code;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter tokenizer train|encode|decode</c>: learn a byte-level BPE from a curated corpus, and inspect a tokenizer.</summary>
internal static class TokenizerCommand
{
    public static Command Create() => new("tokenizer", "Train a byte-level BPE tokenizer on a curated corpus, or encode and decode with one.")
    {
        CreateTrain(), CreateEncode(), CreateDecode(),
    };

    private static Option<string> TokenizerSpecifier() => new("--tokenizer")
    {
        Description = "A tokenizer.json path, cl100k_base or o200k_base.",
        DefaultValueFactory = _ => "tokenizer.json",
    };

    private static Command CreateTrain()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Curated directory (the --out of 'tritter curate') whose documents-*.jsonl are the corpus.", Required = true };
        var vocab = new Option<int>("--vocab") { Description = "Total vocabulary size: special tokens + text/code BPE + image and audio codebooks.", DefaultValueFactory = _ => 65536 };
        var imageCodes = TokenizerOptions.ImageCodes();
        var audioCodes = TokenizerOptions.AudioCodes();
        var output = new Option<FileInfo>("--out") { Description = "Where to write the Hugging Face tokenizer.json.", DefaultValueFactory = _ => new FileInfo("tokenizer.json") };
        var holdout = new Option<double>("--holdout") { Description = "Fraction of documents (chosen by a hash of the path) kept out of training to measure compression on.", DefaultValueFactory = _ => 0.02 };
        var minPairCount = new Option<int>("--min-pair-count") { Description = "Stop merging when the most frequent pair is seen fewer times than this.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Threads that count the corpus.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("train", "Learn a byte-level BPE from a curated corpus and write it as a Hugging Face tokenizer.json; report bytes per token on held-out documents.")
        {
            data, vocab, imageCodes, audioCodes, output, holdout, minPairCount, threads,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var directory = parse.GetValue(data)!;
            if (!directory.Exists)
                throw new CliUsageException($"curated directory '{directory.FullName}' does not exist");
            var textVocabulary = parse.GetValue(vocab) - SpecialTokens.Count - parse.GetValue(imageCodes) - parse.GetValue(audioCodes);
            if (textVocabulary < 256)
                throw new CliUsageException($"--vocab {parse.GetValue(vocab)} leaves {textVocabulary} text tokens after the special tokens and codebooks; at least 256 (one per byte) are needed");
            var fraction = parse.GetValue(holdout);
            if (fraction is < 0 or >= 1)
                throw new CliUsageException("--holdout must be in [0, 1)");
            var options = new BpeTrainingOptions
            {
                TextVocabularySize = textVocabulary,
                MinPairCount = Math.Max(1, parse.GetValue(minPairCount)),
                MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(threads)),
            };
            var clock = Stopwatch.StartNew();
            var training = CuratedCorpus.Read(directory.FullName).Where(r => !CuratedCorpus.IsHeldOut(r.Path, fraction)).Select(r => r.Text);
            var progress = new Progress<BpeTrainingProgress>(p =>
                Console.Error.Write($"\r{p.Phase}: {p.Done:N0}{(p.Total > 0 ? $" / {p.Total:N0}" : "")}    "));
            var model = BpeTrainer.Train(training, options, progress, cancellationToken);
            Console.Error.WriteLine();
            var path = parse.GetValue(output)!.FullName;
            HuggingFaceTokenizerFile.Write(path, model);
            var trainSeconds = clock.Elapsed.TotalSeconds;
            var tokenizer = MultiModalTokenizer.Load(path, new CodebookSizes(parse.GetValue(imageCodes), parse.GetValue(audioCodes)));
            Console.WriteLine($"wrote {path}: {model.Tokens.Count:N0} text tokens ({model.Merges.Count:N0} merges), vocabulary size {tokenizer.Layout.Size:N0}, trained in {trainSeconds:F1} s");
            ReportHeldOut(tokenizer, directory.FullName, fraction);
            return Task.FromResult(0);
        });
        return command;
    }

    private static void ReportHeldOut(MultiModalTokenizer tokenizer, string directory, double fraction)
    {
        long documents = 0, bytes = 0, tokens = 0;
        foreach (var record in CuratedCorpus.Read(directory).Where(r => CuratedCorpus.IsHeldOut(r.Path, fraction)))
        {
            var utf8 = Encoding.UTF8.GetBytes(record.Text);
            documents++;
            bytes += utf8.Length;
            tokens += tokenizer.EncodeBytes(utf8).Length;
        }
        Console.WriteLine(tokens == 0
            ? "held-out: no documents (raise --holdout to measure compression)"
            : $"held-out: {documents:N0} documents, {bytes:N0} bytes, {tokens:N0} tokens, {(double)bytes / tokens:F3} bytes/token");
    }

    private static Command CreateEncode()
    {
        var tokenizer = TokenizerSpecifier();
        var file = new Argument<FileInfo>("file") { Description = "File to encode." };
        var modality = new Option<Modality>("--modality") { Description = "Text or Code (code marks function/class blocks).", DefaultValueFactory = _ => Modality.Code };
        var language = new Option<SourceLanguage?>("--language") { Description = "Source language for code blocks; detected from the file name when left out." };
        var imageCodes = TokenizerOptions.ImageCodes();
        var audioCodes = TokenizerOptions.AudioCodes();
        var command = new Command("encode", "Print the token ids of a file, one span with its modality markers, and where code blocks start.")
        {
            tokenizer, file, modality, language, imageCodes, audioCodes,
        };
        command.SetAction(parse =>
        {
            var loaded = TokenizerOptions.Load(parse.GetValue(tokenizer)!, parse.GetValue(imageCodes), parse.GetValue(audioCodes));
            var path = parse.GetValue(file)!;
            if (!path.Exists)
                throw new CliUsageException($"file '{path.FullName}' does not exist");
            var document = loaded.Encode(File.ReadAllText(path.FullName), parse.GetValue(modality), parse.GetValue(language) ?? LanguageDetector.FromPath(path.Name));
            Console.WriteLine(string.Join(' ', document.Ids));
            if (document.BlockStarts.Length > 0)
                Console.WriteLine($"blocks start at: {string.Join(' ', document.BlockStarts)}");
            Console.Error.WriteLine($"{path.Length:N0} bytes, {document.Ids.Length:N0} tokens");
            return 0;
        });
        return command;
    }

    private static Command CreateDecode()
    {
        var tokenizer = TokenizerSpecifier();
        var ids = new Argument<int[]>("ids") { Description = "Token ids to decode.", Arity = ArgumentArity.OneOrMore };
        var imageCodes = TokenizerOptions.ImageCodes();
        var audioCodes = TokenizerOptions.AudioCodes();
        var command = new Command("decode", "Write the exact bytes of token ids to stdout (special and codebook ids as their names).")
        {
            tokenizer, ids, imageCodes, audioCodes,
        };
        command.SetAction(parse =>
        {
            var loaded = TokenizerOptions.Load(parse.GetValue(tokenizer)!, parse.GetValue(imageCodes), parse.GetValue(audioCodes));
            byte[] bytes;
            try
            {
                bytes = loaded.DecodeBytes(parse.GetValue(ids));
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(bytes);
            return 0;
        });
        return command;
    }
}
