using Tritter.Cli;

return await TritterCli.RunAsync(args).ConfigureAwait(false);
