using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>
/// The output head in row chunks (how a large vocabulary trains without a full logits tensor) against the head over
/// all rows at once: the same loss and the same gradients, every parameter, in each quantisation scheme.
/// </summary>
public sealed class ChunkedHeadTests
{
    private const int Batch = 2, Sequence = 7;

    // Chunks of 3 rows over 14 (3, 3, 3, 3, 2) and of 1 row; only the summation order of the head's weight gradient
    // and of the loss changes, so float32 rounding bounds the gap: 1e-5 relative to each gradient's largest entry.
    [TestCase(false, QuantizationScheme.Reference, 0.0, 3)]
    [TestCase(true, QuantizationScheme.Reference, 0.3, 3)]
    [TestCase(true, QuantizationScheme.Paper, 0.0, 3)]
    [TestCase(true, QuantizationScheme.Reference, 0.0, 1)]
    public void Chunked_head_gives_the_loss_and_gradients_of_the_whole_head(bool useBitnet, QuantizationScheme scheme, double alpha, int chunkRows)
    {
        var random = TestRandom.Create();
        var config = ModelFixtures.Micro(useBitnet, scheme, alpha);
        var batch = ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        var (wholeLoss, whole) = LossAndGradients(model, backend, batch, Batch * Sequence);
        var (chunkedLoss, chunked) = LossAndGradients(model, backend, batch, chunkRows);
        Assert.That(chunkedLoss, Is.EqualTo(wholeLoss).Within(1e-6 * wholeLoss));
        for (var p = 0; p < whole.Length; p++)
        {
            var largest = whole[p].Max(Math.Abs);
            Assert.That(chunked[p], Is.EqualTo(whole[p]).Within(1e-5f * largest + 1e-9f), model.Parameters[p].Name);
        }
    }

    [Test]
    public void Large_vocabularies_get_chunked_logits_by_default()
    {
        var config = ModelFixtures.Micro(useBitnet: true) with { VocabSize = 1 << 20 };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 1);
        using var activations = model.CreateActivations(4, 16);
        Assert.That(activations.LogitRows, Is.EqualTo(TritterActivations.LogitChunkBytes / (4L << 20)));
        Assert.That(activations.Logits.Shape, Is.EqualTo(new Tritter.Core.Tensors.TensorShape([activations.LogitRows, 1 << 20])));
        Assert.That(() => model.CreateActivations(4, 16, logitRows: 65), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private static (double Loss, float[][] Gradients) LossAndGradients(TritterModel model, CpuBackend backend, TrainingBatch batch, int logitRows)
    {
        using var activations = model.CreateActivations(Batch, Sequence, logitRows);
        model.ZeroGradients();
        var loss = model.Forward(activations, batch);
        model.Backward(activations);
        return (loss, [.. model.Parameters.Select(p => Read(backend, p.Gradient))]);
    }
}
