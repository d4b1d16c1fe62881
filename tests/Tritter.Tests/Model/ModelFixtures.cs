using Tritter.Core.Config;
using Tritter.Core.Model;

namespace Tritter.Tests.Model;

/// <summary>Small configurations and batches for model tests.</summary>
public static class ModelFixtures
{
    /// <summary>Small enough that a float32 finite-difference check over every parameter tensor takes a second.</summary>
    public static TritterConfig Micro(bool useBitnet, QuantizationScheme scheme = QuantizationScheme.Reference, double alpha = 0) => new()
    {
        HiddenSize = 16,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeads = 2,
        HeadDim = 4,
        IntermediateSize = 24,
        VocabSize = 32,
        MaxPositionEmbeddings = 16,
        RopeTheta = 500000,
        NormEpsilon = 1e-5,
        AttentionMode = AttentionMode.Causal,
        SlidingWindow = 16,
        UseBitnet = useBitnet,
        QuantizationScheme = scheme,
        EmbeddingPredictionAlpha = alpha,
    };

    /// <summary>Random next-token batch of <paramref name="batch"/> x <paramref name="sequence"/>, with a few padding targets.</summary>
    public static TrainingBatch RandomBatch(Random random, int batch, int sequence, int vocab)
    {
        var sequences = Enumerable.Range(0, batch)
            .Select(_ => Enumerable.Range(0, sequence + 1).Select(_ => random.Next(1, vocab)).ToArray())
            .ToArray();
        sequences[0][^1] = 0;
        return TrainingBatch.NextToken(sequences);
    }
}
