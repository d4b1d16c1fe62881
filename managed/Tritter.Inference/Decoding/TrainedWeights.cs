using Tritter.Core.Config;
using Tritter.Core.Ternary;

namespace Tritter.Inference.Decoding;

/// <summary>
/// Weights of a trained model, read as float32 tensors by name: projections are ternarised with the model's scheme
/// (the quantisers the training forward pass applies) and packed; with BitNet off they stay float32.
/// </summary>
internal sealed class TrainedWeights(TritterConfig config, Func<string, float[]> read) : IDecodeWeights
{
    public LinearWeights Linear(string name, int inFeatures, int outFeatures, bool hasBias)
    {
        var weight = read($"{name}.weight");
        var bias = hasBias ? read($"{name}.bias") : [];
        if (!config.UseBitnet)
            return LinearWeights.Float(weight, outFeatures, inFeatures, bias);
        var matrix = config.QuantizationScheme == QuantizationScheme.Paper
            ? PackedTernaryMatrix.QuantizePaper(weight, outFeatures, inFeatures)
            : PackedTernaryMatrix.QuantizeReference(weight, outFeatures, inFeatures, read($"{name}.scale"));
        return LinearWeights.Ternary(matrix, bias);
    }

    public NormSlots Norm(WeightBlock block, string name, int width) => NormSlots.Add(block, read($"{name}.weight"), read($"{name}.bias"), (float)config.NormEpsilon);

    public float[] Embedding() => read("embed_tokens.embedding.weight");
}
