using System.Globalization;

namespace Tritter.Core.Training;

/// <summary>Shape of the alpha curriculum's ramp.</summary>
public enum AlphaRamp
{
    /// <summary>Straight from the start value to the final one.</summary>
    Linear,

    /// <summary>Half a cosine: slow at both ends.</summary>
    Cosine,
}

/// <summary>
/// The curriculum of the embedding-prediction weight alpha in the hybrid loss <c>alpha MSE + (1 - alpha) CE</c>
/// (DESIGN.md §1): <see cref="Start"/> at step 0, ramping to <see cref="Final"/> at step <see cref="RampSteps"/> and
/// constant after. Written on the command line as <c>0.3</c> (constant), <c>0:0.3@2000</c> (linear ramp over 2000
/// steps) or <c>0:0.3@2000:cosine</c>; <see cref="ToString"/> gives that text back exactly, which is how checkpoints
/// keep it.
/// </summary>
/// <param name="Start">Alpha at step 0.</param>
/// <param name="Final">Alpha from step <paramref name="RampSteps"/> on; the model's configuration records it.</param>
/// <param name="RampSteps">Steps of the ramp; 0 is a constant <paramref name="Final"/>.</param>
/// <param name="Ramp">Shape of the ramp.</param>
public sealed record AlphaSchedule(double Start, double Final, int RampSteps, AlphaRamp Ramp = AlphaRamp.Linear)
{
    /// <summary>A constant alpha.</summary>
    public static AlphaSchedule Constant(double alpha) => new(alpha, alpha, 0);

    /// <summary>Alpha at optimiser step <paramref name="step"/> (1-based, as the trainer counts).</summary>
    public double At(int step)
    {
        if (RampSteps <= 0 || step >= RampSteps)
            return Final;
        var progress = Math.Max(0, step) / (double)RampSteps;
        var shaped = Ramp == AlphaRamp.Cosine ? 0.5 * (1 - Math.Cos(Math.PI * progress)) : progress;
        return Start + (Final - Start) * shaped;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a value is outside [0, 1] or the ramp is negative.</summary>
    public void Validate()
    {
        if (!(Start is >= 0 and <= 1) || !(Final is >= 0 and <= 1))
            throw new ArgumentException($"alpha {this}: values must be in [0, 1]");
        if (RampSteps < 0)
            throw new ArgumentException($"alpha {this}: the ramp's step count must not be negative");
        if (!Enum.IsDefined(Ramp))
            throw new ArgumentException($"alpha {this}: unknown ramp {Ramp}");
    }

    /// <summary>Parses <c>A</c>, <c>A:B@N</c> or <c>A:B@N:linear|cosine</c>; throws <see cref="FormatException"/> naming the problem.</summary>
    public static AlphaSchedule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split(':');
        AlphaSchedule schedule;
        if (parts.Length == 1)
            schedule = Constant(Number(parts[0], text));
        else
        {
            var ramp = parts[1].Split('@');
            if (parts.Length > 3 || ramp.Length != 2 || !int.TryParse(ramp[1], NumberStyles.None, CultureInfo.InvariantCulture, out var steps))
                throw new FormatException($"alpha '{text}': expected A (constant), A:B@STEPS or A:B@STEPS:linear|cosine");
            var shape = parts.Length == 3
                ? parts[2].ToLowerInvariant() switch
                {
                    "linear" => AlphaRamp.Linear,
                    "cosine" => AlphaRamp.Cosine,
                    _ => throw new FormatException($"alpha '{text}': ramp '{parts[2]}' is neither linear nor cosine"),
                }
                : AlphaRamp.Linear;
            schedule = new AlphaSchedule(Number(parts[0], text), Number(ramp[0], text), steps, shape);
        }
        try
        {
            schedule.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
        return schedule;
    }

    /// <summary>The text <see cref="Parse"/> reads back to an equal schedule (doubles in round-trip form).</summary>
    public override string ToString() => RampSteps == 0 && Start == Final
        ? Final.ToString("R", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Start:R}:{Final:R}@{RampSteps}:{Ramp.ToString().ToLowerInvariant()}");

    private static double Number(string value, string text) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : throw new FormatException($"alpha '{text}': '{value}' is not a number");
}
