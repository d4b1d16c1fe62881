using Tritter.Core.Checkpoints;
using Tritter.Tests.Support;

namespace Tritter.Tests.Checkpoints;

/// <summary>Model and training checkpoints: bit-exact round trips, atomic replacement, torn saves detected.</summary>
public sealed class CheckpointStoreTests
{
    private const string Config = """{"hidden_size": 8, "num_layers": 1, "bitnet": true}""";

    [Test]
    public void Model_checkpoint_round_trips_bit_exact()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        var q = TestRandom.Floats(random, 8 * 8);
        var scale = TestRandom.Floats(random, 8);
        var embedding = TestRandom.Floats(random, 16 * 8);
        var qName = CheckpointNames.Attention(0, 'q');
        NamedTensor[] weights =
        [
            new(CheckpointNames.Embedding, [16, 8], embedding),
            new(qName + ".weight", [8, 8], q),
            new(qName + ".scale", [8, 1], scale),
        ];
        ModelCheckpoint.Save(dir.Path, weights, Config, new Dictionary<string, string> { ["tritter.version"] = "test" });

        using var checkpoint = ModelCheckpoint.Open(dir.Path);
        Assert.That(checkpoint.Config.RootElement.GetProperty("hidden_size").GetInt32(), Is.EqualTo(8));
        Assert.That(checkpoint.Weights.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(checkpoint.Weights.Metadata["tritter.version"], Is.EqualTo("test"));
        var back = new float[64];
        checkpoint.ReadWeight("layers.0.attention.q_proj.weight", [8, 8], back);
        Assert.That(back, Is.EqualTo(q));
        Assert.That(checkpoint.Weights.ReadFloat32("layers.0.attention.q_proj.scale"), Is.EqualTo(scale));
        Assert.That(checkpoint.Weights.ReadFloat32("embed_tokens.embedding.weight"), Is.EqualTo(embedding));
        Assert.That(() => checkpoint.ReadWeight(qName + ".weight", [4, 16], back),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("expects [4, 16]"));
    }

    [Test]
    public void Saving_again_replaces_the_files_and_leaves_no_temporaries()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        ModelCheckpoint.Save(dir.Path, [new NamedTensor("w", [3], TestRandom.Floats(random, 3))], Config);
        var second = TestRandom.Floats(random, 5);
        ModelCheckpoint.Save(dir.Path, [new NamedTensor("w", [5], second)], Config);
        using (var checkpoint = ModelCheckpoint.Open(dir.Path))
            Assert.That(checkpoint.Weights.ReadFloat32("w"), Is.EqualTo(second));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EquivalentTo(new[] { "model.safetensors", "config.json" }));
    }

    [Test]
    public void A_failed_write_keeps_the_old_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("config.json");
        AtomicFile.WriteAllText(path, Config);
        Assert.That(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("{\"partial\":"u8);
            throw new IOException("disk full");
        }), Throws.TypeOf<IOException>());
        Assert.That(File.ReadAllText(path), Is.EqualTo(Config));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void Invalid_config_is_rejected_before_writing_and_on_open()
    {
        using var dir = new TempDirectory();
        Assert.That(() => ModelCheckpoint.Save(dir.Path, [], "{not json"), Throws.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(Directory.GetFiles(dir.Path), Is.Empty);
        ModelCheckpoint.Save(dir.Path, [], Config);
        File.WriteAllText(dir.File("config.json"), "{\"hidden_size\": ");
        Assert.That(() => ModelCheckpoint.Open(dir.Path).Dispose(),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("config.json").And.Message.Contains("not valid JSON"));
    }

    [Test]
    public void Training_checkpoint_round_trips_moments_and_position()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        var parameter = CheckpointNames.Mlp(2, "gate") + ".weight";
        var m = TestRandom.Floats(random, 6 * 4);
        var v = TestRandom.Floats(random, 6 * 4);
        var state = new TrainerState(random.NextInt64(1, long.MaxValue), random.NextInt64(0, 1 << 40), Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        TrainingCheckpoint.Save(dir.Path, [AdamWMoments.Create(parameter, [6, 4], m, v)], state);

        using var checkpoint = TrainingCheckpoint.Open(dir.Path);
        Assert.That(checkpoint.State, Is.EqualTo(state));
        Assert.That(checkpoint.Optimizer.Contains("layers.2.mlp.gate_proj.weight.exp_avg"), Is.True);
        var (mBack, vBack) = (new float[24], new float[24]);
        checkpoint.ReadMoments(parameter, mBack, vBack);
        Assert.That(mBack, Is.EqualTo(m));
        Assert.That(vBack, Is.EqualTo(v));
    }

    [Test]
    public void Training_checkpoint_with_mismatched_steps_is_rejected()
    {
        using var dir = new TempDirectory();
        TrainingCheckpoint.Save(dir.Path, [AdamWMoments.Create("w", [1], new float[] { 0.5f }, new float[] { 0.25f })], new TrainerState(10, 5, "r"));
        AtomicFile.WriteAllText(dir.File(TrainingCheckpoint.StateFileName), new TrainerState(11, 6, "r").ToJson());
        Assert.That(() => TrainingCheckpoint.Open(dir.Path).Dispose(),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("step 10").And.Message.Contains("at step 11"));
    }

    [TestCase("[]", "not an object")]
    [TestCase("{\"step\": -1, \"sampler_position\": 0, \"rng_state\": \"r\"}", "\"step\" must be a non-negative integer")]
    [TestCase("{\"step\": 1, \"sampler_position\": \"0\", \"rng_state\": \"r\"}", "\"sampler_position\" must be")]
    [TestCase("{\"step\": 1, \"sampler_position\": 0}", "\"rng_state\" must be a string")]
    [TestCase("{\"step\": 1,", "not valid JSON")]
    public void Malformed_trainer_state_is_rejected(string json, string expected)
    {
        Assert.That(() => TrainerState.Parse(System.Text.Encoding.UTF8.GetBytes(json), "trainer_state.json"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("trainer_state.json").And.Message.Contains(expected));
    }
}
