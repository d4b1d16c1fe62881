using System.Numerics.Tensors;

namespace Tritter.Inference.Sampling;

/// <summary>
/// KNN rounding (DESIGN.md §1): the final hidden state is the model's predicted embedding of the next token; the token
/// is the row of the embedding table nearest to it by Euclidean distance.
/// </summary>
public static class NearestEmbedding
{
    /// <summary>The id whose row of <paramref name="table"/> (<c>[vocab, hidden]</c>) is nearest to <paramref name="predicted"/>; id 0 (padding) never is.</summary>
    public static int Find(ReadOnlySpan<float> predicted, ReadOnlySpan<float> table)
    {
        var hidden = predicted.Length;
        if (hidden == 0 || table.Length % hidden != 0)
            throw new ArgumentException($"a table of {table.Length} values does not hold rows of {hidden}", nameof(table));
        var vocab = table.Length / hidden;
        var best = 0;
        var bestDistance = double.PositiveInfinity;
        for (var id = 1; id < vocab; id++)
        {
            var distance = (double)TensorPrimitives.Distance(predicted, table.Slice(id * hidden, hidden));
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = id;
            }
        }
        return best;
    }
}
