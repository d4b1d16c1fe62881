using Tritter.Core.Config;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Training;

/// <summary>Checkpoints that lose nothing: a resumed run continues exactly as an uninterrupted one.</summary>
public sealed class TrainingRunTests
{
    private static TrainingRunOptions Options(int steps, int saveEvery, AlphaSchedule? alpha = null) => new()
    {
        Optimizer = new TrainingOptions { Schedule = new LearningRateSchedule(3e-3, 3e-4, 2, 6), Alpha = alpha },
        Steps = steps,
        Batch = 2,
        SequenceLength = 16,
        GradientAccumulation = 2,
        Seed = 21,
        EvalEvery = 3,
        EvalBatches = 1,
        SaveEvery = saveEvery,
    };

    [TestCase(null)]
    [TestCase("0:0.4@5:cosine")]
    public void Resumed_run_repeats_the_uninterrupted_losses_bit_for_bit(string? alphaText)
    {
        var alpha = alphaText is null ? null : AlphaSchedule.Parse(alphaText);
        var random = TestRandom.Create();
        var config = TritterPresets.Get("tiny");
        var tokens = Enumerable.Range(0, 4000).Select(_ => random.Next(1, config.VocabSize)).ToArray();
        var (train, eval) = (tokens.AsMemory(0, 3500), tokens.AsMemory(3500));
        using var backend = new CpuBackend();
        var root = Path.Combine(Path.GetTempPath(), $"tritter-run-{Guid.NewGuid():N}");
        try
        {
            var straight = new List<double>();
            using (var run = TrainingRun.Start(backend, config, Options(6, 0, alpha), Path.Combine(root, "straight"), train, eval))
                run.Run(new Progress(e => straight.Add(e.Step.Loss)));

            var resumed = new List<double>();
            var directory = Path.Combine(root, "resumed");
            using (var run = TrainingRun.Start(backend, config, Options(3, 3, alpha), directory, train, eval))
                run.Run(new Progress(e => resumed.Add(e.Step.Loss)));
            Assert.That(TrainingRun.LatestCheckpoint(directory), Is.Not.Null, "a checkpoint at step 3");
            // The resumed run is given another curriculum: the stored one must win.
            using (var run = TrainingRun.Resume(backend, null, Options(6, 3, AlphaSchedule.Constant(0.9)), directory, train, eval))
            {
                Assert.That(run.Step, Is.EqualTo(3));
                run.Run(new Progress(e => resumed.Add(e.Step.Loss)));
            }
            Assert.That(resumed, Is.EqualTo(straight), "losses of steps 1-6, interrupted after 3 versus straight through");
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void Resume_without_a_checkpoint_or_with_another_config_is_refused()
    {
        using var backend = new CpuBackend();
        var config = TritterPresets.Get("tiny");
        var tokens = Enumerable.Range(1, 2000).Select(i => i % (config.VocabSize - 1) + 1).ToArray();
        var root = Path.Combine(Path.GetTempPath(), $"tritter-run-{Guid.NewGuid():N}");
        try
        {
            Assert.That(() => TrainingRun.Resume(backend, null, Options(2, 1), root, tokens, tokens),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("no checkpoint"));
            using (var run = TrainingRun.Start(backend, config, Options(1, 1), root, tokens, tokens))
                run.Run();
            var other = config with { NumLayers = config.NumLayers + 1 };
            Assert.That(() => TrainingRun.Resume(backend, other, Options(2, 1), root, tokens, tokens),
                Throws.TypeOf<InvalidDataException>().With.Message.Contains("differs"));
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void Non_finite_steps_are_skipped_reported_and_stop_the_run_before_any_checkpoint()
    {
        var random = TestRandom.Create();
        var config = TritterPresets.Get("tiny");
        var tokens = Enumerable.Range(0, 3000).Select(_ => random.Next(1, config.VocabSize)).ToArray();
        using var backend = new CpuBackend();
        var root = Path.Combine(Path.GetTempPath(), $"tritter-run-{Guid.NewGuid():N}");
        try
        {
            using var run = TrainingRun.Start(backend, config, Options(10, 1) with { MaxConsecutiveSkips = 3 }, root, tokens, tokens);
            // NaN embeddings poison every loss from the first step on.
            var embedding = run.Model.Parameters.First(p => p.Name == "embed_tokens.embedding.weight").Value;
            var poisoned = new float[embedding.ElementCount];
            Array.Fill(poisoned, float.NaN);
            backend.Upload<float>(embedding, poisoned);
            var events = new List<TrainingRunEvent>();
            Assert.That(() => run.Run(new Progress(events.Add)),
                Throws.InvalidOperationException.With.Message.Contains("3 consecutive steps had a non-finite loss"));
            Assert.That(events, Has.Count.EqualTo(3).And.All.Matches<TrainingRunEvent>(e => e.Step.Skipped && !e.Saved));
            Assert.That(TrainingRun.LatestCheckpoint(root), Is.Null, "no poisoned checkpoint is written");
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Synchronous progress (System.Progress posts to the thread pool, which would race the assertions).</summary>
    private sealed class Progress(Action<TrainingRunEvent> report) : IProgress<TrainingRunEvent>
    {
        public void Report(TrainingRunEvent value) => report(value);
    }
}
