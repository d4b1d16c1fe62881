using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Ternary;

namespace Tritter.Inference.Decoding;

/// <summary>
/// Random ternary weights straight in the packed layout, for measuring decode speed at a preset's real size without
/// building (and ternarising) float32 shadow weights first: uniform random 2-bit codes with 0b11 read as 0 (so half
/// the weights are 0 and a quarter each +1 and -1), the initial scale <c>2 / sqrt(in)</c>, LayerNorms at weight 1 and
/// bias 0, an embedding uniform in [-1, 1).
/// </summary>
internal sealed class RandomTernaryWeights : IDecodeWeights
{
    private readonly TritterConfig _config;
    private readonly Random _random;

    public RandomTernaryWeights(TritterConfig config, int seed)
    {
        if (!config.UseBitnet)
            throw new ArgumentException("random weights are ternary: the configuration must have BitNet on", nameof(config));
        _config = config;
        _random = new Random(seed);
    }

    public LinearWeights Linear(string name, int inFeatures, int outFeatures, bool hasBias)
    {
        var wordsPerRow = TernaryPacking.WordsPerRow(inFeatures);
        var words = new uint[(long)outFeatures * wordsPerRow];
        _random.NextBytes(MemoryMarshal.AsBytes(words.AsSpan()));
        var fullWords = inFeatures / TernaryPacking.WeightsPerWord;
        var tailMask = (1u << (2 * (inFeatures % TernaryPacking.WeightsPerWord))) - 1;
        for (var i = 0; i < words.Length; i++)
        {
            var w = words[i];
            var invalid = w & (w >> 1) & 0x5555_5555u;
            w &= ~(invalid * 3);
            var column = i % wordsPerRow;
            words[i] = column < fullWords ? w : column == fullWords ? w & tailMask : 0;
        }
        var scheme = _config.QuantizationScheme == QuantizationScheme.Paper ? TernaryScheme.Paper : TernaryScheme.Reference;
        var scales = new float[scheme == TernaryScheme.Paper ? 1 : outFeatures];
        Array.Fill(scales, (float)(2 / Math.Sqrt(inFeatures)));
        return LinearWeights.Ternary(new PackedTernaryMatrix(outFeatures, inFeatures, scheme, words, scales),
            hasBias ? new float[outFeatures] : []);
    }

    public NormSlots Norm(WeightBlock block, string name, int width)
    {
        var weight = new float[width];
        Array.Fill(weight, 1f);
        return NormSlots.Add(block, weight, new float[width], (float)_config.NormEpsilon);
    }

    public float[] Embedding()
    {
        var table = new float[(long)_config.VocabSize * _config.HiddenSize];
        for (var i = 0; i < table.Length; i++)
            table[i] = (float)(2 * _random.NextDouble() - 1);
        return table;
    }
}
