using Tritter.Inference.Sampling;
using Tritter.Tests.Support;

namespace Tritter.Tests.Inference;

/// <summary>Sampling from logits: greedy, top-k, top-p, penalty and determinism under a seed.</summary>
public sealed class TokenChooserTests
{
    [Test]
    public void Temperature_zero_is_argmax()
    {
        var random = TestRandom.Create();
        var logits = TestRandom.Floats(random, 1000, 5f);
        var best = Array.IndexOf(logits, logits.Max());
        Assert.That(new TokenChooser(new SamplingOptions(Temperature: 0)).Choose(logits, []), Is.EqualTo(best));
    }

    [Test]
    public void Top_k_draws_only_from_the_k_most_likely()
    {
        var random = TestRandom.Create();
        var logits = TestRandom.Floats(random, 500, 2f);
        var allowed = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(5).ToHashSet();
        var chooser = new TokenChooser(new SamplingOptions(Temperature: 5, TopK: 5, TopP: 1, Seed: random.Next()));
        for (var i = 0; i < 2000; i++)
            Assert.That(allowed, Does.Contain(chooser.Choose(logits, [])));
    }

    [Test]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        // Probabilities 0.5, 0.3, 0.2 (logits are their logs): top-p 0.7 keeps the first two only.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var chooser = new TokenChooser(new SamplingOptions(Temperature: 1, TopK: 0, TopP: 0.7, Seed: 3));
        var counts = new int[3];
        for (var i = 0; i < 20_000; i++)
            counts[chooser.Choose(logits, [])]++;
        Assert.That(counts[2], Is.Zero);
        // Renormalised 0.5 / 0.8 = 0.625; 20k draws put the frequency within about 0.01 (3.4 standard deviations).
        Assert.That(counts[0] / 20_000.0, Is.EqualTo(0.625).Within(0.012));
    }

    [Test]
    public void Repetition_penalty_can_move_the_argmax()
    {
        float[] logits = [2.0f, 1.5f];
        var chooser = new TokenChooser(new SamplingOptions(Temperature: 0, RepetitionPenalty: 2.0));
        Assert.That(chooser.Choose(logits, [0]), Is.EqualTo(1), "2.0 / 2 = 1.0 < 1.5");
    }

    [Test]
    public void Same_seed_gives_the_same_draws()
    {
        var random = TestRandom.Create();
        var logits = TestRandom.Floats(random, 300, 3f);
        var seed = random.Next();
        var a = new TokenChooser(new SamplingOptions(Seed: seed));
        var b = new TokenChooser(new SamplingOptions(Seed: seed));
        for (var i = 0; i < 100; i++)
            Assert.That(b.Choose(logits, []), Is.EqualTo(a.Choose(logits, [])));
    }

    [Test]
    public void Options_out_of_range_are_rejected_by_name()
    {
        Assert.That(() => new SamplingOptions(TopP: 0).Validate(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("TopP"));
        Assert.That(() => new SamplingOptions(Temperature: -1).Validate(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Temperature"));
    }
}
