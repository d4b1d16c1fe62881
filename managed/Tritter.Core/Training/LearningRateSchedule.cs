namespace Tritter.Core.Training;

/// <summary>Shape of the learning-rate curve after warm-up.</summary>
public enum ScheduleKind
{
    /// <summary>Cosine decay from the peak to the minimum over the remaining steps.</summary>
    Cosine,
    /// <summary>
    /// BitNet b1.58's two stages: cosine decay from the peak over the first half, then a drop to
    /// <see cref="LearningRateSchedule.SecondStageFraction"/> of the peak, decaying to the minimum; weight decay is off
    /// in the second stage.
    /// </summary>
    BitnetTwoStage,
}

/// <summary>Linear warm-up, then <see cref="Kind"/> decay; steps count from 1.</summary>
/// <param name="PeakLearningRate">Rate at the end of warm-up.</param>
/// <param name="MinLearningRate">Rate at the last step.</param>
/// <param name="WarmupSteps">Steps of linear warm-up from 0.</param>
/// <param name="TotalSteps">Length of the run.</param>
/// <param name="Kind">Decay shape.</param>
/// <param name="SecondStageFraction">Second-stage starting rate as a fraction of the peak (two-stage only).</param>
public sealed record LearningRateSchedule(double PeakLearningRate, double MinLearningRate, int WarmupSteps, int TotalSteps,
    ScheduleKind Kind = ScheduleKind.Cosine, double SecondStageFraction = 0.5)
{
    /// <summary>Learning rate at <paramref name="step"/>.</summary>
    public double LearningRate(int step)
    {
        if (step <= WarmupSteps)
            return PeakLearningRate * step / Math.Max(1, WarmupSteps);
        if (Kind == ScheduleKind.Cosine)
            return CosineDecay(PeakLearningRate, MinLearningRate, step - WarmupSteps, TotalSteps - WarmupSteps);
        var middle = WarmupSteps + (TotalSteps - WarmupSteps) / 2;
        return step <= middle
            ? CosineDecay(PeakLearningRate, SecondStageFraction * PeakLearningRate, step - WarmupSteps, middle - WarmupSteps)
            : CosineDecay(SecondStageFraction * PeakLearningRate, MinLearningRate, step - middle, TotalSteps - middle);
    }

    /// <summary>Multiplier of the weight decay at <paramref name="step"/>: 1, or 0 in BitNet's second stage.</summary>
    public double WeightDecayFactor(int step) =>
        Kind == ScheduleKind.BitnetTwoStage && step > WarmupSteps + (TotalSteps - WarmupSteps) / 2 ? 0 : 1;

    private static double CosineDecay(double from, double to, int step, int steps)
    {
        var progress = Math.Clamp((double)step / Math.Max(1, steps), 0, 1);
        return to + 0.5 * (from - to) * (1 + Math.Cos(Math.PI * progress));
    }
}
