using Tritter.Inference.Sampling;

namespace Tritter.Inference;

/// <summary>What one generation asks for.</summary>
/// <param name="MaxNewTokens">Tokens to generate at most (stop sequences end it earlier).</param>
/// <param name="Sampling">How each token is drawn from the logits.</param>
public sealed record GenerationOptions(int MaxNewTokens, SamplingOptions Sampling)
{
    /// <summary>Whether tokens come from the logits or from rounding the predicted embedding.</summary>
    public TokenRounding Rounding { get; init; } = TokenRounding.Logits;

    /// <summary>
    /// Latent steps before each token is chosen (DESIGN.md §1): the predicted embedding is fed back unrounded this many
    /// times (see <see cref="DecodeSession.AppendLatent"/>), each taking a position of the context, and the token is
    /// then chosen from the output of the last of them.
    /// </summary>
    public int LatentSteps { get; init; }

    /// <summary>Token-id sequences that end generation; the matched tokens are not yielded (nor held-back tokens that might start one).</summary>
    public IReadOnlyList<IReadOnlyList<int>> StopSequences { get; init; } = [];

    /// <summary>Throws for values outside their ranges, naming the option.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxNewTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(LatentSteps);
        ArgumentNullException.ThrowIfNull(Sampling);
        Sampling.Validate();
        if (StopSequences.Any(s => s.Count == 0))
            throw new ArgumentException("a stop sequence needs at least one token", nameof(StopSequences));
    }
}

/// <summary>A token of one prompt of a batch.</summary>
/// <param name="Sequence">Index of the prompt in the batch.</param>
/// <param name="Token">The token id.</param>
public readonly record struct BatchToken(int Sequence, int Token);
