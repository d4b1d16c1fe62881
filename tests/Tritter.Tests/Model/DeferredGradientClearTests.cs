using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>
/// A step's gradients started by <see cref="TritterModel.StartGradients"/> (the reference projections' first backward
/// pass overwrites their stale gradients) against <see cref="TritterModel.ZeroGradients"/>: the same bits for every
/// parameter, over two micro-batches and after a step that left gradients behind.
/// </summary>
public sealed class DeferredGradientClearTests
{
    private const int Batch = 2, Sequence = 7;

    [TestCase(true, QuantizationScheme.Reference)]
    [TestCase(true, QuantizationScheme.Paper)]
    [TestCase(false, QuantizationScheme.Reference)]
    public void Deferred_clearing_gives_the_gradients_of_clearing_first(bool useBitnet, QuantizationScheme scheme)
    {
        var random = TestRandom.Create();
        var config = ModelFixtures.Micro(useBitnet, scheme);
        var batches = new[] { ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize), ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize) };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        using var activations = model.CreateActivations(Batch, Sequence);

        model.ZeroGradients();
        foreach (var batch in batches)
        {
            model.Forward(activations, batch);
            model.Backward(activations);
        }
        var cleared = model.Parameters.Select(p => Read(backend, p.Gradient)).ToArray();

        // The gradients now hold the step above: stale values a deferred clear must not add to.
        model.StartGradients();
        foreach (var batch in batches)
        {
            model.Forward(activations, batch);
            model.Backward(activations);
        }
        model.CompleteGradients();
        for (var p = 0; p < cleared.Length; p++)
            Assert.That(Read(backend, model.Parameters[p].Gradient), Is.EqualTo(cleared[p]), model.Parameters[p].Name);
    }

    [Test]
    public void Gradients_no_backward_pass_reached_are_cleared_on_completion()
    {
        var random = TestRandom.Create();
        var config = ModelFixtures.Micro(useBitnet: true);
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: random.Next());
        using var activations = model.CreateActivations(Batch, Sequence);
        model.ZeroGradients();
        model.Forward(activations, ModelFixtures.RandomBatch(random, Batch, Sequence, config.VocabSize));
        model.Backward(activations);
        model.StartGradients();
        model.CompleteGradients();
        foreach (var p in model.Parameters)
            Assert.That(Read(backend, p.Gradient), Is.All.Zero, p.Name);
    }
}
