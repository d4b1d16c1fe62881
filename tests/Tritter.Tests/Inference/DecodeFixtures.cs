using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Tests.Model;

namespace Tritter.Tests.Inference;

/// <summary>Models whose head_dim (32) suits the INT4 KV-cache, small enough for many steps on two cores.</summary>
public static class DecodeFixtures
{
    /// <summary>Two layers, four query heads over two KV heads of 32.</summary>
    public static TritterConfig Config(bool useBitnet, QuantizationScheme scheme = QuantizationScheme.Reference) =>
        ModelFixtures.Micro(useBitnet, scheme) with
        {
            HiddenSize = 128,
            HeadDim = 32,
            IntermediateSize = 192,
            VocabSize = 96,
            MaxPositionEmbeddings = 256,
            SlidingWindow = 256,
        };

    /// <summary>Logits <c>[tokens, vocab]</c> of the training forward pass (float keys and values) over <paramref name="tokens"/>.</summary>
    public static float[] RecomputedLogits(TritterModel model, int[] tokens)
    {
        using var activations = model.CreateActivations(1, tokens.Length);
        model.Forward(activations, new TrainingBatch(tokens, new int[tokens.Length]));
        var logits = new float[tokens.Length * model.Config.VocabSize];
        model.Backend.Download<float>(activations.Logits, logits);
        return logits;
    }

    /// <summary>
    /// Sets every ternary projection's learnable scale to <c>0.5 / sqrt(in)</c> instead of the initial <c>2 / sqrt(in)</c>,
    /// so that the layers do not amplify perturbations (see <see cref="DecodeModelTests"/>).
    /// </summary>
    public static void DampScales(TritterModel model)
    {
        foreach (var p in model.Parameters.Where(p => p.Name.EndsWith(".scale", StringComparison.Ordinal)))
        {
            var weight = model.Parameters.Single(w => w.Name == p.Name[..^".scale".Length] + ".weight");
            var scales = new float[p.Value.ElementCount];
            Array.Fill(scales, (float)(0.5 / Math.Sqrt(weight.Value.Shape[1])));
            model.Backend.Upload<float>(p.Value, scales);
        }
    }

    /// <summary>Random token ids in [1, vocab).</summary>
    public static int[] Tokens(Random random, int count, int vocab) => [.. Enumerable.Range(0, count).Select(_ => random.Next(1, vocab))];

    /// <summary>Collects a stream.</summary>
    public static async Task<List<T>> Collect<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
            list.Add(item);
        return list;
    }
}
