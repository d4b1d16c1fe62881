using Tritter.Core.Config;

namespace Tritter.Tests.Config;

/// <summary>Presets, parameter counts and config.json reading and writing.</summary>
public sealed class TritterConfigTests
{
    [Test]
    public void Seven_b_parameter_count_matches_the_state_dict_arithmetic()
    {
        const long hidden = 4096, layers = 32, headDim = 128, kv = 8 * headDim, intermediate = 11008, vocab = 65536;
        // Each ternary projection is weight [out, in] + scale [out, 1] + bias [out].
        const long attention = (hidden * hidden + 2 * hidden) * 2 + (kv * hidden + 2 * kv) * 2 + 2 * 2 * headDim;
        const long mlp = (intermediate * hidden + 2 * intermediate) * 2 + hidden * intermediate + 2 * hidden;
        const long norms = 2 * 2 * hidden;
        const long expected = vocab * hidden + layers * (attention + mlp + norms) + 2 * hidden + vocab * hidden + vocab;
        Assert.That(expected, Is.EqualTo(6_210_510_848L));
        Assert.That(TritterPresets.Get("7B").ParameterCount, Is.EqualTo(expected));
    }

    [TestCase("1B", 1_091_416_064L)]
    [TestCase("7B", 6_210_510_848L)]
    [TestCase("tiny", 159_840L)]
    public void Preset_parameter_counts(string preset, long expected) =>
        Assert.That(TritterPresets.Get(preset).ParameterCount, Is.EqualTo(expected));

    [Test]
    public void Without_bitnet_projections_lose_their_scales()
    {
        // tiny: 7 projections per layer over 2 layers, plus lm_head's 512 rows, each lose one scale per output row.
        const long scales = 2 * (64 + 32 + 32 + 64 + 172 + 172 + 64) + 512;
        Assert.That(TritterPresets.Get("tiny").ParameterCount - (TritterPresets.Get("tiny") with { UseBitnet = false }).ParameterCount, Is.EqualTo(scales));
    }

    [Test]
    public void Every_preset_validates_and_uses_the_reference_vocabulary()
    {
        foreach (var name in TritterPresets.Names)
        {
            var config = TritterPresets.Get(name);
            Assert.That(config.Validate, Throws.Nothing, name);
            Assert.That(config.RopeTheta, Is.EqualTo(500000), name);
            if (char.IsDigit(name[0]))
                Assert.That((config.VocabSize, config.MaxPositionEmbeddings), Is.EqualTo((65536, 131072)), name);
        }
    }

    [Test]
    public void Json_round_trips_and_uses_snake_case()
    {
        var config = TritterPresets.Get("7B") with { AttentionMode = AttentionMode.PrefixLm, QuantizationScheme = QuantizationScheme.Paper, EmbeddingPredictionAlpha = 0.25 };
        var json = TritterConfigFile.ToJson(config);
        Assert.That(json, Does.Contain("\"hidden_size\": 4096").And.Contain("\"num_kv_heads\": 8").And.Contain("\"attention_mode\": \"prefix_lm\"")
            .And.Contain("\"max_position_embeddings\": 131072").And.Contain("\"rope_theta\": 500000"));
        Assert.That(TritterConfigFile.FromJson(json, "config.json"), Is.EqualTo(config));

        var path = Path.Combine(Path.GetTempPath(), $"tritter-config-{Guid.NewGuid():N}.json");
        try
        {
            TritterConfigFile.Write(config, path);
            Assert.That(TritterConfigFile.Read(path), Is.EqualTo(config));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly object[] BadFields =
    [
        new object[] { "\"hidden_size\": 4096", "\"hidden_size\": 4096, \"colour\": 3", "colour" },
        new object[] { "\"hidden_size\": 4096,", "", "hidden_size" },
        new object[] { "\"num_layers\": 32", "\"num_layers\": \"many\"", "num_layers" },
        new object[] { "\"use_bitnet\": true", "\"use_bitnet\": 1", "use_bitnet" },
        new object[] { "\"attention_mode\": \"causal\"", "\"attention_mode\": \"sideways\"", "attention_mode" },
        new object[] { "\"num_heads\": 32", "\"num_heads\": 30", "num_heads (30) does not divide hidden_size (4096)" },
        new object[] { "\"num_kv_heads\": 8", "\"num_kv_heads\": 5", "num_kv_heads (5) does not divide num_heads (32)" },
        new object[] { "\"head_dim\": 128", "\"head_dim\": 64", "head_dim (64) times num_heads (32) is not hidden_size (4096)" },
        new object[] { "\"vocab_size\": 65536", "\"vocab_size\": 0", "vocab_size (0) must be positive" },
        new object[] { "\"rope_theta\": 500000", "\"rope_theta\": -1", "rope_theta" },
    ];

    [TestCaseSource(nameof(BadFields))]
    public void Bad_config_is_rejected_naming_the_file_and_field(string original, string replacement, string message)
    {
        var json = TritterConfigFile.ToJson(TritterPresets.Get("7B"));
        Assert.That(json, Does.Contain(original));
        var bad = json.Replace(original, replacement, StringComparison.Ordinal);
        Assert.That(() => TritterConfigFile.FromJson(bad, "models/x/config.json"),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith("models/x/config.json").And.Message.Contains(message));
    }

    [Test]
    public void Truncated_and_null_files_are_rejected()
    {
        var json = TritterConfigFile.ToJson(TritterPresets.Get("tiny"));
        Assert.That(() => TritterConfigFile.FromJson(json[..(json.Length / 2)], "config.json"), Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith("config.json"));
        Assert.That(() => TritterConfigFile.FromJson("null", "config.json"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("null"));
    }
}
