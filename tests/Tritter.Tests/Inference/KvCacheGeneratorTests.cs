using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Inference;
using Tritter.Inference.Sampling;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>The KV-cache generation engine: determinism, stop sequences, batches, cancellation, rounding.</summary>
public sealed class KvCacheGeneratorTests
{
    private static readonly SamplingOptions Sampled = new(Temperature: 1.0, TopK: 20, TopP: 0.9, RepetitionPenalty: 1.3, Seed: 7);

    [Test]
    public async Task The_same_seed_gives_the_same_tokens_past_the_cache_capacity()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 32, sinkTokens: 2, prefillChunk: 4);
        var options = new GenerationOptions(60, Sampled);
        var first = await DecodeFixtures.Collect(generator.GenerateAsync([1, 5, 9, 13, 17], options));
        var second = await DecodeFixtures.Collect(generator.GenerateAsync([1, 5, 9, 13, 17], options));
        var other = await DecodeFixtures.Collect(generator.GenerateAsync([1, 5, 9, 13, 17], options with { Sampling = Sampled with { Seed = 8 } }));
        Assert.Multiple(() =>
        {
            Assert.That(first, Has.Count.EqualTo(60).And.All.InRange(0, setup.Decoder.Config.VocabSize - 1));
            Assert.That(second, Is.EqualTo(first));
            Assert.That(other, Is.Not.EqualTo(first));
        });
    }

    [Test]
    public async Task Stop_sequences_end_generation_and_are_not_yielded()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 64);
        var free = await DecodeFixtures.Collect(generator.GenerateAsync([1, 3], new GenerationOptions(30, Sampled)));
        // A pair of tokens from the middle: generation ends before its first occurrence.
        IReadOnlyList<int> pair = [free[10], free[11]];
        var start = Enumerable.Range(0, 11).First(i => free[i] == pair[0] && free[i + 1] == pair[1]);
        var byPair = await DecodeFixtures.Collect(generator.GenerateAsync([1, 3], new GenerationOptions(30, Sampled) { StopSequences = [pair, [9999]] }));
        // A single token: the end-of-text marker's case.
        var byToken = await DecodeFixtures.Collect(generator.GenerateAsync([1, 3], new GenerationOptions(30, Sampled) { StopSequences = [[free[6]]] }));
        Assert.Multiple(() =>
        {
            Assert.That(byPair, Is.EqualTo(free.Take(start).ToList()));
            Assert.That(byToken, Is.EqualTo(free.Take(free.IndexOf(free[6])).ToList()));
        });
    }

    [Test]
    public async Task A_batch_gives_what_each_prompt_gives_alone()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 48, sinkTokens: 4, prefillChunk: 8);
        IReadOnlyList<int>[] prompts = [[1, 2, 3], [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50], [1]];
        var options = new GenerationOptions(25, Sampled) { StopSequences = [[17, 18]] };
        var batch = await DecodeFixtures.Collect(generator.GenerateBatchAsync(prompts, options));
        for (var i = 0; i < prompts.Length; i++)
        {
            var alone = await DecodeFixtures.Collect(generator.GenerateAsync(prompts[i], options));
            Assert.That(batch.Where(t => t.Sequence == i).Select(t => t.Token).ToList(), Is.EqualTo(alone), $"prompt {i}");
        }
        // Lockstep: the first round yields one token of every prompt before any prompt's second. Without stop sequences,
        // which hold back a token that might begin one (a prompt whose first token is 17 yields nothing in round one).
        var free = await DecodeFixtures.Collect(generator.GenerateBatchAsync(prompts, options with { StopSequences = [] }));
        Assert.That(free.Take(3).Select(t => t.Sequence), Is.EquivalentTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void Cancellation_stops_the_stream()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 32);
        using var cancel = new CancellationTokenSource();
        var received = 0;
        Assert.That(async () =>
        {
            await foreach (var _ in generator.GenerateAsync([1, 2], new GenerationOptions(50, Sampled), cancel.Token))
            {
                if (++received == 3)
                    await cancel.CancelAsync();
            }
        }, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(received, Is.EqualTo(3));
    }

    [Test]
    public async Task Nearest_embedding_rounding_returns_the_nearest_row()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 16);
        var tokens = await DecodeFixtures.Collect(generator.GenerateAsync([1, 5], new GenerationOptions(5, Sampled) { Rounding = TokenRounding.NearestEmbedding }));
        Assert.That(tokens, Has.Count.EqualTo(5).And.All.InRange(1, setup.Decoder.Config.VocabSize - 1));
    }

    [Test]
    public void Bad_prompts_and_options_are_rejected()
    {
        using var setup = new Setup();
        var generator = new KvCacheGenerator(setup.Decoder, capacity: 16);
        Assert.Multiple(() =>
        {
            Assert.That(async () => await DecodeFixtures.Collect(generator.GenerateAsync([], new GenerationOptions(2, Sampled))),
                Throws.ArgumentException.With.Message.Contains("at least one token"));
            Assert.That(async () => await DecodeFixtures.Collect(generator.GenerateAsync([1, 9999], new GenerationOptions(2, Sampled))),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("vocabulary"));
            Assert.That(async () => await DecodeFixtures.Collect(generator.GenerateAsync([1], new GenerationOptions(2, Sampled) { StopSequences = [[]] })),
                Throws.ArgumentException.With.Message.Contains("stop sequence"));
        });
    }

    /// <summary>A random ternary model (reference scheme) packed for decoding.</summary>
    private sealed class Setup : IDisposable
    {
        private readonly CpuBackend _backend = new();
        private readonly TritterModel _model;

        public Setup()
        {
            _model = new TritterModel(_backend, DecodeFixtures.Config(useBitnet: true), seed: TestRandom.Create().Next());
            Decoder = DecodeModel.FromModel(_model);
        }

        public DecodeModel Decoder { get; }

        public void Dispose()
        {
            Decoder.Dispose();
            _model.Dispose();
            _backend.Dispose();
        }
    }

    /// <summary>With latent steps, each token is the greedy choice after that many latent steps, as a session driven by hand gives.</summary>
    [Test]
    public async Task Latent_steps_come_before_each_choice()
    {
        var random = TestRandom.Create();
        var config = DecodeFixtures.Config(useBitnet: true);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        using var decoder = DecodeModel.FromModel(model);
        int[] prompt = [1, 5, 9, 13, 17];
        var options = new GenerationOptions(6, new SamplingOptions(Temperature: 0)) { LatentSteps = 2 };
        var generated = await DecodeFixtures.Collect(new KvCacheGenerator(decoder, capacity: 64).GenerateAsync(prompt, options));

        using var session = new DecodeSession(decoder, capacity: 64, sinkTokens: 4);
        var logits = new float[config.VocabSize];
        var expected = new List<int>();
        session.Append(prompt);
        for (var i = 0; i < 6; i++)
        {
            session.AppendLatent();
            session.AppendLatent();
            session.ReadLogits(logits);
            var next = Array.IndexOf(logits, logits.Max());
            expected.Add(next);
            session.Append([next]);
        }
        Assert.That(generated, Is.EqualTo(expected));
        Assert.That(() => options with { LatentSteps = -1 }, Throws.Nothing);
        Assert.That(() => (options with { LatentSteps = -1 }).Validate(), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
