using System.CommandLine;
using Tritter.Cli.Commands;

namespace Tritter.Cli;

/// <summary>The <c>tritter</c> command line, callable in-process (the program and the end-to-end tests use it).</summary>
public static class TritterCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (2 for bad usage or input).</summary>
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Tritter: a BitNet b1.58 engine. Curate code data, train, fine-tune and generate, on the CPU or a CUDA GPU.")
        {
            InfoCommand.Create(),
            CurateCommand.Create(),
            TokenizerCommand.Create(),
            TrainCommand.Create(),
            GenerateCommand.Create(),
            QuickstartCommand.Create(),
        };
        return CliRunner.RunAsync(root, args);
    }
}
