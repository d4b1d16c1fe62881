using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Cpu;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>The model's parameters: reference state-dict names and shapes, counts, initialisation, decay groups.</summary>
public sealed class ModelParameterTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void Parameters_follow_the_reference_state_dict(bool useBitnet)
    {
        var config = TritterPresets.Get("tiny") with { UseBitnet = useBitnet };
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 3);
        var shapes = model.Parameters.ToDictionary(p => p.Name, p => p.Value.Shape.Dimensions.ToArray());
        Assert.That(model.Parameters.Sum(p => p.Value.ElementCount), Is.EqualTo(config.ParameterCount));
        Assert.That(shapes["embed_tokens.embedding.weight"], Is.EqualTo(new[] { 512, 64 }));
        Assert.That(shapes["layers.1.attention.k_proj.weight"], Is.EqualTo(new[] { 32, 64 }));
        Assert.That(shapes["layers.1.attention.q_norm.weight"], Is.EqualTo(new[] { 16 }));
        Assert.That(shapes["layers.0.mlp.down_proj.bias"], Is.EqualTo(new[] { 64 }));
        Assert.That(shapes["layers.0.post_mlp_layernorm.bias"], Is.EqualTo(new[] { 64 }));
        Assert.That(shapes["norm.weight"], Is.EqualTo(new[] { 64 }));
        Assert.That(shapes["lm_head.weight"], Is.EqualTo(new[] { 512, 64 }));
        Assert.That(shapes.ContainsKey("lm_head.bias"), Is.False);
        Assert.That(shapes.ContainsKey("lm_head.scale"), Is.EqualTo(useBitnet));
        if (useBitnet)
            Assert.That(shapes["layers.0.mlp.gate_proj.scale"], Is.EqualTo(new[] { 172, 1 }));
        Assert.That(model.Parameters.Where(p => !p.WeightDecay).Select(p => p.Name),
            Has.All.Matches<string>(n => n.EndsWith(".bias", StringComparison.Ordinal) || n.Contains("norm", StringComparison.Ordinal)));
    }

    [Test]
    public void Initialisation_is_the_reference_one_and_follows_the_seed()
    {
        var config = TritterPresets.Get("tiny");
        using var backend = new CpuBackend();
        using var model = new TritterModel(backend, config, seed: 5);
        using var same = new TritterModel(backend, config, seed: 5);
        var values = model.Parameters.ToDictionary(p => p.Name, p => Read(backend, p.Value));
        // Kaiming-uniform with a = sqrt(5): bound 1/sqrt(in_features) = 1/8.
        var q = values["layers.0.attention.q_proj.weight"];
        Assert.That(q.Max(Math.Abs), Is.LessThanOrEqualTo(0.125f).And.GreaterThan(0.12f));
        Assert.That(values["layers.0.mlp.down_proj.scale"], Is.All.EqualTo(2 / MathF.Sqrt(172)));
        Assert.That(values["layers.0.attention.q_proj.bias"], Is.All.EqualTo(0));
        Assert.That(values["layers.0.input_layernorm.weight"], Is.All.EqualTo(1));
        Assert.That(values["embed_tokens.embedding.weight"].Take(64), Is.All.EqualTo(0), "padding row");
        foreach (var p in same.Parameters)
            Assert.That(Read(backend, p.Value), Is.EqualTo(values[p.Name]), p.Name);
    }
}
