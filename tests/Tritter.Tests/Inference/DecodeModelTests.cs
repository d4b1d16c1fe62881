using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Inference;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>
/// The KV-cache decoder against the recomputing training forward pass and an independent float64 decoder.
/// Tolerance: every cached key and value is within half an INT4 step, <c>absmax / 14</c>, of its group's largest
/// magnitude, and the rest of the computation is float32; in a model whose layers do not amplify perturbations the
/// logits then move by at most that fraction, 1/14, of their largest magnitude (measured: 0.5-3%). The reference
/// scheme's initial scale <c>2 / sqrt(in)</c> does amplify (the MLP is cubic in it: 1/14 becomes about 30% at position 0,
/// where attention returns the single cached value), so its scales are set to <c>0.5 / sqrt(in)</c> here.
/// </summary>
public sealed class DecodeModelTests
{
    private const double Tolerance = 1.0 / 14;

    [TestCase(false, QuantizationScheme.Reference)]
    [TestCase(true, QuantizationScheme.Reference)]
    [TestCase(true, QuantizationScheme.Paper)]
    public void Decode_logits_match_the_recomputed_forward_pass_over_many_steps(bool useBitnet, QuantizationScheme scheme)
    {
        var random = TestRandom.Create();
        var config = DecodeFixtures.Config(useBitnet, scheme);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        DecodeFixtures.DampScales(model);
        var tokens = DecodeFixtures.Tokens(random, 120, config.VocabSize);
        var expected = DecodeFixtures.RecomputedLogits(model, tokens);
        using var decoder = DecodeModel.FromModel(model);
        // 37 prompt tokens: prefill chunks of 16, 16 and 4, then the last prompt token and 83 decode steps.
        using var session = new DecodeSession(decoder, capacity: 128, sinkTokens: 4, prefillChunk: 16);
        const int prompt = 37;
        session.Append(tokens.AsSpan(0, prompt));
        var vocab = config.VocabSize;
        var logits = new float[vocab];
        var worst = 0.0;
        for (var position = prompt - 1; position < tokens.Length; position++)
        {
            if (position >= prompt)
                session.Append(tokens.AsSpan(position, 1));
            session.ReadLogits(logits);
            worst = Math.Max(worst, RelativeError(logits, expected.AsSpan(position * vocab, vocab)));
        }
        TestContext.Out.WriteLine($"worst relative logit error {worst:E3} over {tokens.Length - prompt + 1} steps");
        Assert.That(worst, Is.LessThan(Tolerance));
    }

    /// <summary>
    /// Latent steps feed the predicted embedding (the final hidden state) back unrounded: the float64 decoder, fed the
    /// hidden state the session reports before each latent step, gives the same logits within the INT4 tolerance (fed
    /// its own hidden states instead, the two would drift apart step by step, each feeding back its own error); the
    /// latent positions stay in the cache, so the token fed after them is attended with them.
    /// </summary>
    [Test]
    public void Latent_steps_feed_the_predicted_embedding_back_as_the_float64_decoder_does()
    {
        var random = TestRandom.Create();
        var config = DecodeFixtures.Config(useBitnet: false);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        var tokens = DecodeFixtures.Tokens(random, 12, config.VocabSize);
        var reference = new NaiveStreamingDecoder(model);
        using var decoder = DecodeModel.FromModel(model);
        using var session = new DecodeSession(decoder, capacity: 64, sinkTokens: 4, prefillChunk: 8);
        session.Append(tokens);
        foreach (var token in tokens)
            reference.Step(token);
        var logits = new float[config.VocabSize];
        var hidden = new float[config.HiddenSize];
        var worst = 0.0;
        for (var step = 0; step < 6; step++)
        {
            session.ReadHidden(hidden);
            var expected = step < 5 ? reference.StepEmbedding([.. hidden.Select(v => (double)v)]) : reference.Step(tokens[0]);
            if (step < 5)
                session.AppendLatent();
            else
                session.Append(tokens.AsSpan(0, 1));
            session.ReadLogits(logits);
            worst = Math.Max(worst, RelativeError(logits, [.. expected.Select(v => (float)v)]));
        }
        TestContext.Out.WriteLine($"worst relative logit error {worst:E3}");
        Assert.That(worst, Is.LessThan(Tolerance));
        Assert.That(session.Position, Is.EqualTo(tokens.Length + 6));
    }

    [Test]
    public void Past_the_cache_capacity_the_sinks_and_the_recent_window_are_attended()
    {
        var random = TestRandom.Create();
        var config = DecodeFixtures.Config(useBitnet: false);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        var tokens = DecodeFixtures.Tokens(random, 100, config.VocabSize);
        const int capacity = 32, sinks = 4;
        var reference = new NaiveStreamingDecoder(model);
        var unlimited = new NaiveStreamingDecoder(model);
        var visible = NaiveStreamingDecoder.Streaming(capacity, sinks);
        using var decoder = DecodeModel.FromModel(model);
        using var session = new DecodeSession(decoder, capacity, sinks, prefillChunk: 8);
        // A prompt longer than the cache: prefill fills it in chunks, then goes on token by token, evicting.
        const int prompt = 45;
        session.Append(tokens.AsSpan(0, prompt));
        double[] expected = [];
        for (var i = 0; i < prompt; i++)
        {
            expected = reference.Step(tokens[i], visible);
            unlimited.Step(tokens[i]);
        }
        var logits = new float[config.VocabSize];
        var worst = 0.0;
        var closerToUnlimited = new List<int>();
        for (var position = prompt - 1; position < tokens.Length; position++)
        {
            double[]? full = null;
            if (position >= prompt)
            {
                session.Append(tokens.AsSpan(position, 1));
                expected = reference.Step(tokens[position], visible);
                full = unlimited.Step(tokens[position]);
            }
            session.ReadLogits(logits);
            var error = RelativeError(logits, [.. expected.Select(v => (float)v)]);
            // Eviction must be what brings the logits there: attention over every position lands farther away.
            if (full is not null && RelativeError(logits, [.. full.Select(v => (float)v)]) <= error)
                closerToUnlimited.Add(position);
            worst = Math.Max(worst, error);
        }
        TestContext.Out.WriteLine($"worst relative logit error {worst:E3}");
        Assert.Multiple(() =>
        {
            Assert.That(worst, Is.LessThan(Tolerance));
            Assert.That(closerToUnlimited, Is.Empty, "positions where the logits are nearer those of attention without eviction");
            Assert.That(session.Position, Is.EqualTo(tokens.Length));
            Assert.That(session.Cache.Length, Is.EqualTo(capacity));
        });
    }

    [Test]
    public void Head_dims_the_int4_cache_cannot_hold_are_refused()
    {
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, TritterPresets.Get("tiny"), seed: 1);
        Assert.That(() => DecodeModel.FromModel(model), Throws.ArgumentException.With.Message.Contains("head_dim 16"));
    }

    [Test]
    public void Random_ternary_weights_decode_and_count_their_bytes()
    {
        var config = DecodeFixtures.Config(useBitnet: true);
        using var backend = new CpuBackend();
        using var decoder = DecodeModel.RandomTernary(backend, config, seed: 2);
        using var session = new DecodeSession(decoder, capacity: 16, sinkTokens: 1);
        session.Append([1, 2, 3]);
        var logits = new float[config.VocabSize];
        session.ReadLogits(logits);
        Assert.That(logits, Has.All.Matches<float>(float.IsFinite));
        // Per layer 2 x 128 x 128 + 2 x 64 x 128 + 3 x 128 x 192 weights at 2 bits, the head 96 x 128; scales, biases and one embedding row in float32.
        long codes = 2 * (2 * 128 * 128 + 2 * 64 * 128 + 3 * 128 * 192) / 4 + 96 * 128 / 4;
        long floats = 2 * 2 * (128 + 64 + 64 + 128 + 192 + 192 + 128) + 96 + 128;
        Assert.That(decoder.WeightBytesPerToken, Is.EqualTo(codes + 4 * floats));
    }

    private static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double scale = 0, error = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
        }
        return error / scale;
    }
}
