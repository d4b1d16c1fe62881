using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Tritter.Cli.Commands;

/// <summary>
/// <c>tritter quickstart</c>: the whole path on a fresh machine, from a real source tree that is already there to a
/// generated sample, by running the other commands in turn: curate, train a tokenizer, curate again into token shards,
/// train a small model on the CPU, generate.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var source = new Option<DirectoryInfo?>("--source") { Description = "Source tree to learn from. Default: the standard library of the machine's python3, else the current directory." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where everything goes (data/, tokenizer.json, run/).", DefaultValueFactory = _ => new DirectoryInfo("runs/quickstart") };
        var preset = new Option<string>("--preset") { Description = "Model preset to train.", DefaultValueFactory = _ => "small" };
        var steps = new Option<int>("--steps") { Description = "Training steps (about 0.2 s each for the small preset on 2 cores).", DefaultValueFactory = _ => 300 };
        var vocab = new Option<int>("--vocab") { Description = "Tokenizer vocabulary (special tokens + BPE; no image/audio ranges).", DefaultValueFactory = _ => 2048 };
        var prompt = new Option<string>("--prompt") { Description = "Prompt of the sample printed at the end.", DefaultValueFactory = _ => "def " };
        var command = new Command("quickstart", "Curate a real source tree, train a tokenizer and a small model on the CPU, and print a sample: the README's main job.")
        {
            source, output, preset, steps, vocab, prompt,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetValue(output)!.FullName;
            var tree = parse.GetValue(source)?.FullName ?? DefaultSource();
            if (!Directory.Exists(tree))
                throw new CliUsageException($"--source {tree}: no such directory");
            var raw = Path.Combine(root, "raw");
            var data = Path.Combine(root, "data");
            var tokenizer = Path.Combine(root, "tokenizer.json");
            var run = Path.Combine(root, "run");
            Console.WriteLine($"quickstart: learning from {tree} into {root}");
            string[][] stages =
            [
                ["curate", tree, "--out", raw, "--overwrite", "--keep-unlicensed"],
                ["tokenizer", "train", "--data", raw, "--vocab", parse.GetValue(vocab).ToString(CultureInfo.InvariantCulture), "--image-codes", "0", "--audio-codes", "0", "--out", tokenizer],
                ["curate", tree, "--out", data, "--overwrite", "--keep-unlicensed", "--tokenizer", tokenizer, "--image-codes", "0", "--audio-codes", "0"],
                [.. TrainArguments(run, data, tokenizer, parse.GetValue(preset)!, parse.GetValue(steps))],
                ["generate", "--model", run, "--prompt", parse.GetValue(prompt)!, "--max-new-tokens", "80", "--seed", "1", "--temperature", "0.7", "--device", "cpu"],
            ];
            foreach (var stage in stages)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Console.WriteLine();
                Console.WriteLine($"$ tritter {string.Join(' ', stage)}");
                var code = await TritterCli.RunAsync(stage).ConfigureAwait(false);
                if (code != 0)
                    return code;
            }
            return 0;
        });
        return command;
    }

    private static IEnumerable<string> TrainArguments(string run, string data, string tokenizer, string preset, int steps)
    {
        // A previous quickstart's run is continued rather than refused, so the command can be run again.
        string[] common = ["train", "--data", data, "--tokenizer", tokenizer, "--out", run, "--steps", steps.ToString(CultureInfo.InvariantCulture),
            "--eval-every", "50", "--save-every", "100", "--warmup", "20", "--device", "cpu"];
        return Core.Training.TrainingRun.LatestCheckpoint(run) is null ? [.. common, "--preset", preset] : [.. common, "--resume"];
    }

    /// <summary>The python3 standard library, a real tree of permissively licensed code on most machines; else the current directory.</summary>
    private static string DefaultSource()
    {
        try
        {
            using var python = Process.Start(new ProcessStartInfo("python3", "-c \"import sysconfig; print(sysconfig.get_paths()['stdlib'])\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            var path = python?.StandardOutput.ReadToEnd().Trim();
            python?.WaitForExit();
            if (python?.ExitCode == 0 && Directory.Exists(path))
                return path;
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        return Directory.GetCurrentDirectory();
    }
}
