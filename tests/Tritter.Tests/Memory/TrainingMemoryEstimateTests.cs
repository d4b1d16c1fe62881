using Tritter.Core.Config;
using Tritter.Core.Memory;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Core.Training;
using Tritter.Cpu;
using Tritter.Tests.Model;
using Tritter.Tests.Support;

namespace Tritter.Tests.Memory;

/// <summary>The training estimate against a hand count and against what the CPU backend really allocates.</summary>
public sealed class TrainingMemoryEstimateTests
{
    [TestCase(true, QuantizationScheme.Reference, false, DType.Float32)]
    [TestCase(true, QuantizationScheme.Paper, false, DType.Float32)]
    [TestCase(false, QuantizationScheme.Reference, false, DType.Float32)]
    [TestCase(true, QuantizationScheme.Reference, true, DType.BFloat16)]
    public void Equals_what_a_training_step_holds(bool bitnet, QuantizationScheme scheme, bool recompute, DType moments)
    {
        var config = TritterPresets.Get("tiny") with { UseBitnet = bitnet, QuantizationScheme = scheme };
        var estimate = TrainingMemoryEstimate.For(config, 3, 16, recompute, moments);
        var random = TestRandom.Create();
        using var backend = new CpuBackend();
        var before = backend.Memory.LiveBytes;
        using var model = new TritterModel(backend, config, seed: 5);
        var options = new TrainingOptions { Schedule = new LearningRateSchedule(1e-3, 1e-4, 1, 2), RecomputeActivations = recompute, MomentType = moments };
        using var trainer = new Trainer(model, options, 3, 16);
        trainer.Step(ModelFixtures.RandomBatch(random, 3, 16, config.VocabSize));
        Assert.That(backend.Memory.LiveBytes - before, Is.EqualTo(estimate.TotalBytes));
        Assert.That(backend.Memory.PeakBytes - before, Is.EqualTo(estimate.TotalBytes), "nothing transient beyond the plan");
    }

    [Test]
    public void Tiny_activations_match_a_hand_count_of_the_arena()
    {
        var c = TritterPresets.Get("tiny");
        const int batch = 2, sequence = 8, rows = batch * sequence;
        long d = c.HiddenSize, kv = c.KvSize, inter = c.IntermediateSize, heads = c.NumHeads, vocab = c.VocabSize;
        // Per block: 7 hidden-wide tensors (LN_in out, q raw/normed/rotated, attention out, h, pre-norm; the attention
        // projection and the down product add onto their residuals in place), 4 KV-wide (k raw/normed/rotated, v), 3 MLP-wide (gate, up, gated), LayerNorm statistics (mean and 1/std) of LN_in,
        // LN_post and QK-Norm, and one softmax log-sum-exp per (sequence, head, query).
        var block = rows * (7 * d + 4 * kv + 3 * inter + 2 * (1 + 1 + heads + c.NumKvHeads)) + batch * heads * sequence;
        // Around the blocks: the layer outputs, final norm and its statistics, logits and their gradient, per-token
        // losses, target embeddings and the embedding loss's gradients, the final and two stream gradients.
        var top = rows * ((c.NumLayers + 1) * d + d + 2 + 2 * vocab + 1 + d + 1 + d + d + d + 2 * d);
        // Shared backward scratch: 5 hidden-wide, 3 KV-wide, 3 MLP-wide.
        var scratch = rows * (5 * d + 3 * kv + 3 * inter);
        var floats = c.NumLayers * block + top + scratch;
        Assert.That(TritterActivations.PlannedBytes(c, batch, sequence, recomputeBlocks: false), Is.EqualTo(floats * 4 + 3 * rows * 4), "three int32 token tensors");
        Assert.That(TritterActivations.PlannedBytes(c, batch, sequence, recomputeBlocks: true), Is.EqualTo((block + top + scratch) * 4 + 3 * rows * 4),
            "recomputation keeps one block's activations");
    }

    [Test]
    public void Seven_b_state_matches_a_hand_count()
    {
        var estimate = TrainingMemoryEstimate.For(TritterPresets.Get("7B"), 1, 16);
        Assert.That(estimate.ParameterBytes, Is.EqualTo(6_210_510_848L * 4));
        Assert.That(estimate.GradientBytes, Is.EqualTo(estimate.ParameterBytes));
        Assert.That(estimate.OptimizerBytes, Is.EqualTo(2 * estimate.ParameterBytes));
        // Reference scheme: one shared float32 effective weight and its gradient, sized for the largest projection, the head.
        Assert.That(estimate.EffectiveWeightBytes, Is.EqualTo(2 * 65536L * 4096 * 4));
        Assert.That(estimate.TotalBytes, Is.GreaterThan(16 * ByteSize.GiB));
    }
}
