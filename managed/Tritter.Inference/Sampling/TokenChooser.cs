namespace Tritter.Inference.Sampling;

/// <summary>
/// Chooses the next token from one row of logits: repetition penalty, temperature, top-k, top-p, then a draw from a
/// seeded generator (or argmax at temperature 0). Ties and order are resolved by token id, so the choice is
/// deterministic under a seed.
/// </summary>
public sealed class TokenChooser(SamplingOptions options)
{
    private readonly Random _random = new(options.Seed);

    /// <summary>The next token id; <paramref name="context"/> is what the penalty looks at.</summary>
    public int Choose(ReadOnlySpan<float> logits, ReadOnlySpan<int> context)
    {
        var scores = new double[logits.Length];
        for (var i = 0; i < logits.Length; i++)
            scores[i] = logits[i];
        if (options.RepetitionPenalty != 1.0)
        {
            foreach (var id in context)
            {
                if ((uint)id < (uint)scores.Length)
                    scores[id] = scores[id] > 0 ? scores[id] / options.RepetitionPenalty : scores[id] * options.RepetitionPenalty;
            }
        }
        if (options.Temperature == 0)
            return ArgMax(scores);

        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var keep = options.TopK > 0 ? Math.Min(options.TopK, order.Length) : order.Length;
        var max = scores[order[0]];
        var weights = new double[keep];
        var total = 0.0;
        for (var r = 0; r < keep; r++)
        {
            weights[r] = Math.Exp((scores[order[r]] - max) / options.Temperature);
            total += weights[r];
        }
        var cumulative = 0.0;
        for (var r = 0; r < keep; r++)
        {
            cumulative += weights[r] / total;
            if (cumulative >= options.TopP)
            {
                keep = r + 1;
                break;
            }
        }
        var kept = 0.0;
        for (var r = 0; r < keep; r++)
            kept += weights[r];
        var draw = _random.NextDouble() * kept;
        for (var r = 0; r < keep; r++)
        {
            draw -= weights[r];
            if (draw < 0)
                return order[r];
        }
        return order[keep - 1];
    }

    private static int ArgMax(double[] scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
                best = i;
        }
        return best;
    }
}
