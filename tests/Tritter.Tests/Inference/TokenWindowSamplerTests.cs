using Tritter.Core.Training;

namespace Tritter.Tests.Inference;

/// <summary>The training window sampler: deterministic per step, so a resumed run draws what an uninterrupted one would.</summary>
public sealed class TokenWindowSamplerTests
{
    [Test]
    public void Windows_depend_only_on_seed_and_step_and_are_next_token_pairs()
    {
        var tokens = Enumerable.Range(1, 5000).ToArray();
        var a = new TokenWindowSampler(tokens, batch: 4, sequence: 32, seed: 9);
        var b = new TokenWindowSampler(tokens, batch: 4, sequence: 32, seed: 9);
        var c = new TokenWindowSampler(tokens, batch: 4, sequence: 32, seed: 10);
        var batch = a.BatchAt(7);
        Assert.That(b.BatchAt(7).Tokens, Is.EqualTo(batch.Tokens));
        Assert.That(a.BatchAt(8).Tokens, Is.Not.EqualTo(batch.Tokens));
        Assert.That(c.BatchAt(7).Tokens, Is.Not.EqualTo(batch.Tokens));
        for (var i = 0; i < batch.Tokens.Length; i++)
            Assert.That(batch.Targets[i], Is.EqualTo(batch.Tokens[i] + 1), "targets are the next token of the stream");
    }

    [Test]
    public void Too_short_a_stream_is_rejected()
    {
        Assert.That(() => new TokenWindowSampler(new int[10], 1, 10, 0), Throws.ArgumentException.With.Message.Contains("one window"));
    }
}
