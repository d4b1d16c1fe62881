using System.Diagnostics;
using System.Globalization;
using Tritter.Core.Training;

namespace Tritter.Cli.Training;

/// <summary>
/// The live progress line of a run (step, loss, learning rate, tokens/s, ETA): rewritten in place on a terminal,
/// one line every few seconds when the output is redirected (a log stays readable).
/// </summary>
internal sealed class ProgressLine(int totalSteps, int firstStep)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private TimeSpan? _lastPrinted;
    private long _tokens;

    public void Report(TrainingRunEvent e, double tokensPerSecond)
    {
        _tokens += e.Step.Tokens;
        var done = e.Step.Step - firstStep;
        var eta = done > 0 ? TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / done * (totalSteps - e.Step.Step)) : TimeSpan.Zero;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"step {e.Step.Step}/{totalSteps}  loss {e.Step.Loss:F4}  lr {e.Step.LearningRate:G3}  {tokensPerSecond:F0} tok/s  ETA {eta:hh\\:mm\\:ss}");
        if (e.EvalLoss is double eval)
            text += string.Create(CultureInfo.InvariantCulture, $"  eval {eval:F4} (ppl {Math.Exp(eval):F1})");
        if (e.Step.Skipped)
            text += "  SKIPPED: non-finite loss or gradient";
        if (e.Saved)
            text += "  [saved]";
        var important = e.EvalLoss is not null || e.Step.Skipped || e.Saved || e.Step.Step == totalSteps;
        if (_interactive)
        {
            Console.Write("\r" + text.PadRight(Math.Max(0, Console.WindowWidth - 1)));
            if (important)
                Console.WriteLine();
        }
        else if (important || _lastPrinted is null || _clock.Elapsed - _lastPrinted > TimeSpan.FromSeconds(5))
        {
            Console.WriteLine(text);
            _lastPrinted = _clock.Elapsed;
        }
    }

    /// <summary>Tokens trained on since this line started.</summary>
    public long Tokens => _tokens;

    /// <summary>Wall time since this line started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;
}
