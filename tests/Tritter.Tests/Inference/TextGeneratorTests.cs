using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Inference;
using Tritter.Inference.Sampling;

namespace Tritter.Tests.Inference;

/// <summary>Generation by recomputation on a tiny random model.</summary>
public sealed class TextGeneratorTests
{
    [Test]
    public async Task Same_seed_gives_the_same_tokens_and_greedy_matches_the_logits()
    {
        using var backend = new CpuBackend();
        var config = TritterPresets.Get("tiny");
        using var model = new TritterModel(backend, config, seed: 11);
        using var generator = new TextGenerator(backend, model, window: 16);
        int[] prompt = [1, 17, 42];
        var sampling = new SamplingOptions(Temperature: 1.0, Seed: 5);
        var first = await Collect(generator.GenerateAsync(prompt, 20, sampling));
        var second = await Collect(generator.GenerateAsync(prompt, 20, sampling));
        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, Has.Count.EqualTo(20));

        // Greedy: each token is the argmax of a forward pass over the context so far, computed independently here.
        var greedy = await Collect(generator.GenerateAsync(prompt, 3, new SamplingOptions(Temperature: 0)));
        var context = new List<int>(prompt);
        foreach (var token in greedy)
        {
            // Two padding positions after the context: causal attention must keep them from changing the last row.
            using var activations = model.CreateActivations(1, context.Count + 2, logitRows: context.Count + 2);
            var tokens = new int[context.Count + 2];
            context.CopyTo(tokens);
            model.Forward(activations, new TrainingBatch(tokens, new int[tokens.Length]));
            var logits = new float[tokens.Length * config.VocabSize];
            backend.Download<float>(activations.Logits, logits);
            var row = logits.AsSpan((context.Count - 1) * config.VocabSize, config.VocabSize).ToArray();
            Assert.That(token, Is.EqualTo(Array.IndexOf(row, row.Max())));
            context.Add(token);
        }
    }

    [Test]
    public async Task Nearest_embedding_rounding_returns_vocabulary_ids()
    {
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, TritterPresets.Get("tiny"), seed: 3);
        using var generator = new TextGenerator(backend, model, window: 8);
        var tokens = await Collect(generator.GenerateAsync([1, 5], 5, new SamplingOptions(), TokenRounding.NearestEmbedding));
        Assert.That(tokens, Has.Count.EqualTo(5).And.All.InRange(1, model.Config.VocabSize - 1));
    }

    [Test]
    public void Token_ids_outside_the_vocabulary_are_rejected()
    {
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, TritterPresets.Get("tiny"), seed: 3);
        using var generator = new TextGenerator(backend, model, window: 8);
        Assert.That(async () => await Collect(generator.GenerateAsync([1, 99_999], 2, new SamplingOptions())),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("vocabulary"));
    }

    private static async Task<List<int>> Collect(IAsyncEnumerable<int> tokens)
    {
        var list = new List<int>();
        await foreach (var t in tokens)
            list.Add(t);
        return list;
    }
}
