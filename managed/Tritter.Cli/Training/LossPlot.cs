using ScottPlot;

namespace Tritter.Cli.Training;

/// <summary>Draws the loss curve of a run (training loss per step, held-out loss at each evaluation) with ScottPlot.</summary>
internal static class LossPlot
{
    /// <summary>Writes a PNG of the curves to <paramref name="path"/> (via a temporary file, so a reader never sees half of it).</summary>
    public static void Save(string path, IReadOnlyList<(int Step, double Loss)> training, IReadOnlyList<(int Step, double Loss)> evaluation, string title)
    {
        var plot = new Plot();
        if (training.Count > 0)
        {
            var line = plot.Add.Scatter(training.Select(p => (double)p.Step).ToArray(), training.Select(p => p.Loss).ToArray());
            line.LegendText = "training loss";
            line.MarkerSize = 0;
        }
        if (evaluation.Count > 0)
        {
            var points = plot.Add.Scatter(evaluation.Select(p => (double)p.Step).ToArray(), evaluation.Select(p => p.Loss).ToArray());
            points.LegendText = "held-out loss";
            points.MarkerSize = 6;
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss (nats per token)");
        plot.ShowLegend();
        var temporary = path + ".tmp.png";
        plot.SavePng(temporary, 900, 500);
        File.Move(temporary, path, overwrite: true);
    }
}
