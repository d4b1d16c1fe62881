using System.CommandLine;
using Spectre.Console;
using Tritter.Data.Curation;
using Tritter.Text;

namespace Tritter.Cli.Commands;

/// <summary><c>tritter curate &lt;input-dir&gt; --out &lt;dir&gt;</c>: a source tree into clean, deduplicated JSONL and token shards.</summary>
internal static class CurateCommand
{
    public static Command Create()
    {
        var defaults = new CurationOptions();
        var input = new Argument<DirectoryInfo>("input-dir") { Description = "Source tree to curate (.gitignore is honoured; vendored and build directories are skipped)." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output directory: must be missing or empty (see --overwrite).", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Also write token shards with this tokenizer: a tokenizer.json path, cl100k_base or o200k_base. Without it only JSONL is written." };
        var imageCodes = TokenizerOptions.ImageCodes();
        var audioCodes = TokenizerOptions.AudioCodes();
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete an earlier (finished or interrupted) curation in --out first, instead of refusing." };
        var threads = new Option<int>("--threads") { Description = "Files processed in parallel.", DefaultValueFactory = _ => defaults.MaxDegreeOfParallelism };
        var maxFileBytes = new Option<long>("--max-file-bytes") { Description = "Drop files larger than this.", DefaultValueFactory = _ => defaults.MaxFileBytes };
        var maxLine = new Option<int>("--max-line-length") { Description = "Drop files with a longer line.", DefaultValueFactory = _ => defaults.MaxLineLength };
        var maxMeanLine = new Option<double>("--max-mean-line-length") { Description = "Drop files whose mean line length is above this.", DefaultValueFactory = _ => defaults.MaxMeanLineLength };
        var minAlphanumeric = new Option<double>("--min-alphanumeric") { Description = "Drop files with a smaller fraction of letters and digits.", DefaultValueFactory = _ => defaults.MinAlphanumericFraction };
        var licenses = new Option<string>("--licenses") { Description = "Comma-separated SPDX ids of the licences whose files are kept.", DefaultValueFactory = _ => string.Join(',', defaults.AllowedLicenses.Order(StringComparer.Ordinal)) };
        var keepUnlicensed = new Option<bool>("--keep-unlicensed") { Description = "Keep files with no licence at all (licence 'unknown'); by default they are dropped." };
        var redact = new Option<bool>("--redact-secrets") { Description = "Replace secrets with <REDACTED> and keep the file; by default a file with a secret is dropped." };
        var threshold = new Option<double>("--near-dup-threshold") { Description = "Estimated Jaccard similarity (word 5-grams) at or above which a file is a near duplicate.", DefaultValueFactory = _ => defaults.NearDuplicateThreshold };
        var command = new Command("curate", "Curate a source tree: walk, detect language and licence, filter quality, drop secrets, deduplicate, write JSONL records and token shards, stats.json and summary.txt.")
        {
            input, output, tokenizer, imageCodes, audioCodes, overwrite, threads, maxFileBytes, maxLine, maxMeanLine, minAlphanumeric, licenses, keepUnlicensed, redact, threshold,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var inputDirectory = parse.GetValue(input)!;
            if (!inputDirectory.Exists)
                throw new CliUsageException($"input directory '{inputDirectory.FullName}' does not exist");
            var options = new CurationOptions
            {
                MaxDegreeOfParallelism = Positive(parse.GetValue(threads), "--threads"),
                MaxFileBytes = parse.GetValue(maxFileBytes),
                MaxLineLength = Positive(parse.GetValue(maxLine), "--max-line-length"),
                MaxMeanLineLength = parse.GetValue(maxMeanLine),
                MinAlphanumericFraction = parse.GetValue(minAlphanumeric),
                AllowedLicenses = new HashSet<string>(parse.GetValue(licenses)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase),
                MissingLicense = parse.GetValue(keepUnlicensed) ? MissingLicensePolicy.Keep : MissingLicensePolicy.Drop,
                Secrets = parse.GetValue(redact) ? SecretPolicy.Redact : SecretPolicy.Drop,
                NearDuplicateThreshold = parse.GetValue(threshold) is var t and > 0 and <= 1 ? t : throw new CliUsageException("--near-dup-threshold must be in (0, 1]"),
            };
            MultiModalTokenizer? shardTokenizer = parse.GetValue(tokenizer) is { } specifier
                ? TokenizerOptions.Load(specifier, parse.GetValue(imageCodes), parse.GetValue(audioCodes))
                : null;
            var outputDirectory = parse.GetValue(output)!.FullName;
            CurationStats stats = null!;
            // A console bound to the current Console.Out, not AnsiConsole's static one, which keeps the writer of its first
            // use: in-process callers (the tests) redirect Console.Out per command and dispose the writer afterwards.
            await AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) }).Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("curating", maxValue: 1);
                    var progress = new Progress<CurationProgress>(p =>
                    {
                        task.Description = $"{p.Files:N0} files, {p.Bytes / 1e6:F1} MB, {p.MegabytesPerSecond:F1} MB/s, ETA {(p.Remaining is { } r ? r.ToString(@"hh\:mm\:ss") : "?")}";
                        if (p.TotalBytes is { } total)
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = Math.Min(p.Bytes, total);
                        }
                    });
                    stats = await CurationPipeline.RunAsync(inputDirectory.FullName, outputDirectory, options, shardTokenizer, parse.GetValue(overwrite), progress, cancellationToken).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
            Console.Write(stats.ToSummary());
            Console.WriteLine($"output: {outputDirectory} ({OutputDirectory.StatsFile}, {OutputDirectory.SummaryFile}, {stats.Outputs.Count} data files)");
            return 0;
        });
        return command;
    }

    private static int Positive(int value, string name) => value > 0 ? value : throw new CliUsageException($"{name} must be positive");
}
