namespace Tritter.Inference.Sampling;

/// <summary>How the next token is chosen from the logits.</summary>
/// <param name="Temperature">Softmax temperature; 0 picks the most likely token (greedy).</param>
/// <param name="TopK">Keep only the K most likely tokens; 0 keeps all.</param>
/// <param name="TopP">Keep the smallest set of most likely tokens whose probability reaches P; 1 keeps all.</param>
/// <param name="RepetitionPenalty">Divides positive (multiplies negative) logits of tokens already in the context; 1 is off.</param>
/// <param name="Seed">Seed of the sampling generator: the same seed gives the same tokens.</param>
public sealed record SamplingOptions(double Temperature = 0.8, int TopK = 40, double TopP = 0.95, double RepetitionPenalty = 1.0, int Seed = 0)
{
    /// <summary>Throws for values outside their ranges, naming the option.</summary>
    public void Validate()
    {
        if (Temperature < 0 || !double.IsFinite(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be 0 or positive");
        if (TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be 0 (off) or positive");
        if (TopP is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1]");
        if (RepetitionPenalty <= 0 || !double.IsFinite(RepetitionPenalty))
            throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "repetition penalty must be positive");
    }
}
