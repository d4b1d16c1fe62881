namespace Tritter.Bench;

/// <summary>Runs a <c>profile-*</c> command, reporting bad input (an option, a preset the step cannot run) in one line with the usage, not a stack trace.</summary>
internal static class ProfileCommand
{
    /// <summary>The exit code of <paramref name="run"/>, or 2 when it rejected its input.</summary>
    public static int Run(string name, string usage, Func<int> run)
    {
        try
        {
            return run();
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{name}: {e.Message}");
            Console.Error.WriteLine($"usage: {usage}");
            return 2;
        }
    }
}
