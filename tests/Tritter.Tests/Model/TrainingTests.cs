using System.Diagnostics;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Model;

/// <summary>Training end to end: a tiny model memorises one batch, deterministically.</summary>
public sealed class TrainingTests
{
    private const int Batch = 4, Sequence = 16;

    [TestCase(false, QuantizationScheme.Reference)]
    [TestCase(true, QuantizationScheme.Reference)]
    [TestCase(true, QuantizationScheme.Paper)]
    public void Tiny_model_overfits_one_batch(bool useBitnet, QuantizationScheme scheme)
    {
        var random = TestRandom.Create();
        var config = TritterPresets.Get("tiny") with { UseBitnet = useBitnet, QuantizationScheme = scheme };
        var batch = ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize);
        var losses = Train(config, batch, seed: random.Next(), steps: 300);
        TestContext.Out.WriteLine($"loss {losses[0]:F3} -> {losses[^1]:F4}");
        // ln(512) = 6.24 at the start; memorising 63 random next tokens drives it to near zero.
        Assert.That(losses[0], Is.GreaterThan(5));
        Assert.That(losses[^1], Is.LessThan(0.1));
    }

    [Test]
    public void Same_seed_gives_bit_identical_losses()
    {
        var random = TestRandom.Create();
        var config = TritterPresets.Get("tiny") with { EmbeddingPredictionAlpha = 0.2 };
        var batch = ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize);
        var seed = random.Next();
        var first = Train(config, batch, seed, steps: 20);
        var second = Train(config, batch, seed, steps: 20);
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Training_reports_progress_and_stops_when_cancelled()
    {
        var config = TritterPresets.Get("tiny");
        var batch = ModelFixtures.RandomBatch(TestRandom.Create(), Batch, Sequence, config.VocabSize);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 1);
        using var trainer = new Trainer(model, Options(10), Batch, Sequence);
        using var cancellation = new CancellationTokenSource();
        var reported = new List<int>();
        var progress = new SynchronousProgress(r =>
        {
            reported.Add(r.Step);
            if (r.Step == 3)
                cancellation.Cancel();
        });
        Assert.That(() => trainer.Train(_ => batch, 10, progress, cancellation.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(reported, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Learning_rate_warms_up_then_decays()
    {
        var cosine = new LearningRateSchedule(1e-3, 1e-5, WarmupSteps: 10, TotalSteps: 110);
        Assert.That(cosine.LearningRate(5), Is.EqualTo(5e-4).Within(1e-12));
        Assert.That(cosine.LearningRate(10), Is.EqualTo(1e-3).Within(1e-12));
        Assert.That(cosine.LearningRate(60), Is.EqualTo((1e-3 + 1e-5) / 2).Within(1e-12));
        Assert.That(cosine.LearningRate(110), Is.EqualTo(1e-5).Within(1e-12));
        var twoStage = cosine with { Kind = ScheduleKind.BitnetTwoStage, SecondStageFraction = 0.4 };
        Assert.That(twoStage.LearningRate(60), Is.EqualTo(4e-4).Within(1e-12));
        Assert.That(twoStage.LearningRate(61), Is.LessThan(4e-4));
        Assert.That((twoStage.WeightDecayFactor(60), twoStage.WeightDecayFactor(61)), Is.EqualTo((1.0, 0.0)));
    }

    /// <summary>
    /// CPU training throughput of the tiny and small presets (BitNet reference scheme), a few timed steps after warm-up;
    /// prints tokens/s. It asserts only that training runs; the figure is for bench/results.
    /// </summary>
    [TestCase("tiny", 8, 64)]
    [TestCase("small", 4, 128)]
    public void Training_throughput(string preset, int batch, int sequence)
    {
        var config = TritterPresets.Get(preset);
        var random = new Random(7);
        var data = ModelFixtures.RandomBatch(random, batch, sequence, config.VocabSize);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 7);
        using var trainer = new Trainer(model, Options(100), batch, sequence);
        trainer.Step(data);
        trainer.Step(data);
        const int steps = 5;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
            trainer.Step(data);
        var tokensPerSecond = steps * batch * sequence / clock.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"{preset} ({config.ParameterCount:N0} parameters), batch {batch} x {sequence}, {backend.Name}: {tokensPerSecond:F0} tokens/s");
        Assert.That(tokensPerSecond, Is.GreaterThan(0));
    }

    private static TrainingOptions Options(int steps) => new()
    {
        Schedule = new LearningRateSchedule(3e-3, 3e-4, WarmupSteps: 10, TotalSteps: steps),
        WeightDecay = 0,
    };

    private static double[] Train(TritterConfig config, TrainingBatch batch, int seed, int steps)
    {
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed);
        using var trainer = new Trainer(model, Options(steps), Batch, Sequence);
        return [.. trainer.Train(_ => batch, steps).Select(r => r.Loss)];
    }

    private sealed class SynchronousProgress(Action<TrainingStepResult> report) : IProgress<TrainingStepResult>
    {
        public void Report(TrainingStepResult value) => report(value);
    }
}
