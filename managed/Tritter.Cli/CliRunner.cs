using System.CommandLine;

namespace Tritter.Cli;

/// <summary>
/// Runs the command line so that a person never sees a stack trace: bad usage and bad input are one line on stderr
/// and exit code 2; anything else unexpected is one line and exit code 1.
/// </summary>
internal static class CliRunner
{
    public const int UsageError = 2;

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"tritter: {error.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync("Run 'tritter --help' for usage.").ConfigureAwait(false);
            return UsageError;
        }
        try
        {
            // Ctrl-C cancels the command's token (so long work stops cleanly, leaving no half-written files) instead of
            // killing the process. System.CommandLine's own exception handler would print a stack trace and exit 1;
            // the catches below do better.
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
                return await parse.InvokeAsync(configuration, cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }
        catch (CliUsageException e)
        {
            await Console.Error.WriteLineAsync($"tritter: {e.Message}").ConfigureAwait(false);
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("tritter: cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException)
        {
            await Console.Error.WriteLineAsync($"tritter: {e.Message}").ConfigureAwait(false);
            return UsageError;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("TRITTER_DEBUG") != "1")
        {
            await Console.Error.WriteLineAsync($"tritter: internal error: {e.GetType().Name}: {e.Message} (TRITTER_DEBUG=1 shows the stack trace)").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>Bad input a person can fix: reported as one line, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
