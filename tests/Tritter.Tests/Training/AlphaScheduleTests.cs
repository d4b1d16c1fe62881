using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Model;
using Tritter.Tests.Support;

namespace Tritter.Tests.Training;

/// <summary>The alpha curriculum: its text form, its values per step, and the trainer using it.</summary>
public sealed class AlphaScheduleTests
{
    [TestCase("0.3", 0.3, 0.3, 0, AlphaRamp.Linear)]
    [TestCase("0:0.3@2000", 0.0, 0.3, 2000, AlphaRamp.Linear)]
    [TestCase("0.1:0.5@10:cosine", 0.1, 0.5, 10, AlphaRamp.Cosine)]
    [TestCase(" 1:0@7:LINEAR ", 1.0, 0.0, 7, AlphaRamp.Linear)]
    public void Parses_and_writes_back_the_same_schedule(string text, double start, double final, int steps, AlphaRamp ramp)
    {
        var schedule = AlphaSchedule.Parse(text);
        Assert.That(schedule, Is.EqualTo(new AlphaSchedule(start, final, steps, ramp)));
        Assert.That(AlphaSchedule.Parse(schedule.ToString()), Is.EqualTo(schedule));
    }

    [Test]
    public void Round_trips_doubles_exactly()
    {
        var random = TestRandom.Create();
        var schedule = new AlphaSchedule(random.NextDouble(), random.NextDouble(), random.Next(1, 10000), AlphaRamp.Cosine);
        Assert.That(AlphaSchedule.Parse(schedule.ToString()), Is.EqualTo(schedule));
    }

    [TestCase("")]
    [TestCase("x")]
    [TestCase("1.5")]
    [TestCase("0:0.3")]
    [TestCase("0:0.3@-5")]
    [TestCase("0:0.3@10:square")]
    [TestCase("0:NaN@10")]
    [TestCase("0:0.3@10:linear:extra")]
    public void Rejects_malformed_or_out_of_range_text(string text) =>
        Assert.That(() => AlphaSchedule.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains("alpha"));

    [Test]
    public void Ramps_from_start_to_final_then_stays()
    {
        var linear = new AlphaSchedule(0.1, 0.5, 8);
        var cosine = linear with { Ramp = AlphaRamp.Cosine };
        for (var step = 0; step <= 12; step++)
        {
            var progress = Math.Min(step, 8) / 8.0;
            Assert.That(linear.At(step), Is.EqualTo(0.1 + 0.4 * progress).Within(1e-15));
            Assert.That(cosine.At(step), Is.EqualTo(0.1 + 0.4 * (1 - Math.Cos(Math.PI * progress)) / 2).Within(1e-15));
        }
        Assert.That(AlphaSchedule.Constant(0.25).At(1), Is.EqualTo(0.25));
    }

    [Test]
    public void The_trainer_uses_the_schedules_alpha_instead_of_the_configurations()
    {
        var random = TestRandom.Create();
        var batch = ModelFixtures.RandomBatch(random, 2, 6, 32);
        var options = new TrainingOptions { Schedule = new LearningRateSchedule(1e-3, 1e-4, 1, 4) };
        using var backend = new CpuBackend();
        double Loss(double configAlpha, AlphaSchedule? schedule)
        {
            using var model = new TritterModel(backend, ModelFixtures.Micro(useBitnet: true, alpha: configAlpha), seed: 9);
            using var trainer = new Trainer(model, options with { Alpha = schedule }, 2, 6);
            var result = trainer.Step(batch);
            Assert.That(result.Alpha, Is.EqualTo(schedule?.At(1) ?? configAlpha), "the step reports the alpha it used");
            return result.Loss;
        }
        var scheduled = Loss(0, new AlphaSchedule(0.2, 0.6, 4));
        Assert.That(scheduled, Is.EqualTo(Loss(0.3, null)).Within(1e-12), "step 1 of 0.2 -> 0.6 over 4 steps is alpha 0.3");
        Assert.That(scheduled, Is.Not.EqualTo(Loss(0, null)).Within(1e-6));
    }
}
