using System.Globalization;

namespace Tritter.Bench;

/// <summary>The command line of a <c>profile-*</c> command (after its name): <c>--name value</c> options and bare flags.</summary>
internal sealed class ProfileArguments(string[] args)
{
    /// <summary>Whether the bare flag <paramref name="name"/> is given.</summary>
    public bool Has(string name) => args.Contains(name);

    /// <summary>The value after <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public string Option(string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    /// <summary>The integer after <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback)
    {
        var text = Option(name, fallback.ToString(CultureInfo.InvariantCulture));
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{name} {text}: expected an integer");
    }
}
