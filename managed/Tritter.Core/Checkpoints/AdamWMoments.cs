namespace Tritter.Core.Checkpoints;

/// <summary>AdamW's moments of one parameter, shaped like the parameter; the data is referenced, not copied.</summary>
/// <param name="Parameter">The parameter's name in the model checkpoint.</param>
/// <param name="ExpAvg">First moment (running mean of gradients).</param>
/// <param name="ExpAvgSq">Second moment (running mean of squared gradients).</param>
public readonly record struct AdamWMoments(string Parameter, NamedTensor ExpAvg, NamedTensor ExpAvgSq)
{
    /// <summary>Names both moments after <paramref name="parameter"/> as <see cref="CheckpointNames"/> does.</summary>
    public static AdamWMoments Create(string parameter, int[] shape, ReadOnlyMemory<float> expAvg, ReadOnlyMemory<float> expAvgSq) =>
        new(parameter,
            new NamedTensor(CheckpointNames.ExpAvg(parameter), shape, expAvg),
            new NamedTensor(CheckpointNames.ExpAvgSq(parameter), shape, expAvgSq));
}
