using System.CommandLine;
using Tritter.Cli;
using Tritter.Cli.Commands;

var root = new RootCommand("Tritter: a BitNet b1.58 engine. Curate code data, train, fine-tune and generate, on the CPU or a CUDA GPU.")
{
    InfoCommand.Create(),
    CurateCommand.Create(),
    TokenizerCommand.Create(),
    TrainCommand.Create(),
    GenerateCommand.Create(),
};
return await CliRunner.RunAsync(root, args).ConfigureAwait(false);
