using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using Tritter.Tests.Support;

namespace Tritter.Tests.Model;

/// <summary>The projections' effective weights live in one shared workspace: a model holds one layer's, not every layer's.</summary>
public sealed class ProjectionWorkspaceTests
{
    [TestCase(QuantizationScheme.Reference, 8)]
    [TestCase(QuantizationScheme.Paper, 5)]
    public void A_model_holds_the_effective_weights_of_its_largest_projection_only(QuantizationScheme scheme, int bytesPerWeight)
    {
        var config = TritterPresets.Get("tiny") with { QuantizationScheme = scheme };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 3);
        var parameterBytes = model.Parameters.Sum(p => p.Value.Bytes + p.Gradient.Bytes);
        using var activations = model.CreateActivations(2, 8);
        model.ZeroGradients();
        model.Forward(activations, ModelFixtures.RandomBatch(TestRandom.Create(), 2, 8, config.VocabSize));
        model.Backward(activations);
        // Reference: float32 effective weights and their gradient; paper: float32 effective weights, int8 ternary
        // weights and one float32 gamma. The largest projection is the head, vocab x hidden.
        var largest = (long)config.VocabSize * config.HiddenSize;
        var gamma = scheme == QuantizationScheme.Paper ? 4 : 0;
        Assert.That(backend.Memory.LiveBytes - parameterBytes - activations.Bytes, Is.EqualTo(bytesPerWeight * largest + gamma));
    }
}
