using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>
/// Activation recomputation: one set of block activations for every layer, each block's forward pass run again in the
/// backward pass. Every op is deterministic, so the recomputed activations, the loss and the gradients are bit-identical
/// to keeping every layer's activations.
/// </summary>
public sealed class ActivationRecomputationTests
{
    [TestCase(false, QuantizationScheme.Reference, AttentionMode.Causal)]
    [TestCase(true, QuantizationScheme.Reference, AttentionMode.DocumentBoundary)]
    [TestCase(true, QuantizationScheme.Paper, AttentionMode.SlidingWindow)]
    public void Recomputed_blocks_give_bit_identical_loss_and_gradients(bool useBitnet, QuantizationScheme scheme, AttentionMode mode)
    {
        var random = TestRandom.Create();
        var config = ModelFixtures.Micro(useBitnet, scheme, alpha: 0.2) with { AttentionMode = mode, SlidingWindow = 3, NumLayers = 3 };
        var batch = ModelFixtures.RandomBatch(random, 2, 6, config.VocabSize) with { SegmentIds = [1, 1, 1, 2, 2, 2, 5, 5, 6, 6, 6, 6] };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        var (keptLoss, kept, keptBytes) = LossAndGradients(model, backend, batch, recompute: false);
        var (recomputedLoss, recomputed, recomputedBytes) = LossAndGradients(model, backend, batch, recompute: true);
        Assert.That(recomputedLoss, Is.EqualTo(keptLoss));
        for (var p = 0; p < kept.Length; p++)
            Assert.That(recomputed[p], Is.EqualTo(kept[p]), model.Parameters[p].Name);
        Assert.That(recomputedBytes, Is.LessThan(keptBytes));
    }

    [Test]
    public void Training_with_recomputation_logs_the_same_losses()
    {
        var random = TestRandom.Create();
        var config = TritterPresets.Get("tiny");
        var batches = Enumerable.Range(0, 5).Select(_ => ModelFixtures.RandomBatch(random, 2, 16, config.VocabSize)).ToArray();
        var seed = random.Next();
        double[] Train(bool recompute)
        {
            using var backend = new CpuBackend();
            using var model = new TritterModel(backend, config, seed);
            var options = new TrainingOptions { Schedule = new LearningRateSchedule(3e-3, 3e-4, 2, 5), RecomputeActivations = recompute };
            using var trainer = new Trainer(model, options, 2, 16);
            return [.. trainer.Train(i => batches[i], 5).Select(r => r.Loss)];
        }
        Assert.That(Train(recompute: true), Is.EqualTo(Train(recompute: false)));
    }

    private static (double Loss, float[][] Gradients, long Bytes) LossAndGradients(TritterModel model, CpuBackend backend, TrainingBatch batch, bool recompute)
    {
        using var activations = model.CreateActivations(2, 6, recomputeBlocks: recompute);
        model.ZeroGradients();
        var loss = model.Forward(activations, batch);
        model.Backward(activations);
        return (loss, [.. model.Parameters.Select(p => Read(backend, p.Gradient))], activations.Bytes);
    }
}
