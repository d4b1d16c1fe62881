using Tritter.Data.Shards;
using Tritter.Tests.Support;

namespace Tritter.Tests.Data;

/// <summary>Token shards round-trip, and truncated or corrupted ones are rejected naming the file.</summary>
public sealed class TokenShardTests
{
    private const int Vocabulary = 65536;
    private string _path = "";

    [SetUp]
    public void ChoosePath() => _path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"shard-{Guid.NewGuid():N}.bin");

    [TearDown]
    public void Delete()
    {
        File.Delete(_path);
        File.Delete(_path + ".tmp");
    }

    private List<int[]> WriteRandomShard(Random random)
    {
        var documents = Enumerable.Range(0, random.Next(5, 40))
            .Select(i => Enumerable.Range(0, i % 7 == 3 ? 0 : random.Next(1, 3000)).Select(_ => random.Next(1, Vocabulary)).ToArray())
            .ToList();
        using var writer = new TokenShardWriter(_path, Vocabulary);
        foreach (var document in documents)
            writer.Add(document);
        Assert.That(File.Exists(_path), Is.False, "the shard appears only when complete");
        writer.Complete();
        return documents;
    }

    [Test]
    public void Documents_round_trip_through_the_memory_map()
    {
        var documents = WriteRandomShard(TestRandom.Create());
        using var shard = TokenShard.Open(_path);
        Assert.That(shard.DocumentCount, Is.EqualTo(documents.Count));
        Assert.That(shard.TokenCount, Is.EqualTo(documents.Sum(d => d.Length)));
        Assert.That(shard.Documents().Select(d => d.ToArray()), Is.EqualTo(documents));
        Assert.That(shard.Document(documents.Count - 1).ToArray(), Is.EqualTo(documents[^1]));
        Assert.That(File.Exists(_path + ".tmp"), Is.False);
    }

    [Test]
    public void An_abandoned_writer_leaves_no_file()
    {
        using (var writer = new TokenShardWriter(_path, Vocabulary))
            writer.Add([1, 2, 3]);
        Assert.That(File.Exists(_path) || File.Exists(_path + ".tmp"), Is.False);
    }

    [Test]
    public void Writer_rejects_ids_outside_the_vocabulary()
    {
        using var writer = new TokenShardWriter(_path, 100);
        Assert.That(() => writer.Add([5, 100]), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("outside the vocabulary"));
    }

    [Test]
    public void Truncated_shard_is_rejected()
    {
        var random = TestRandom.Create();
        WriteRandomShard(random);
        var bytes = File.ReadAllBytes(_path);
        foreach (var length in new[] { 0, 10, 63, bytes.Length - 1, random.Next(64, bytes.Length - 1) })
        {
            File.WriteAllBytes(_path, bytes[..length]);
            Assert.That(() => TokenShard.Open(_path), Throws.TypeOf<InvalidDataException>().With.Message.StartsWith(_path + ":"), $"length {length}");
        }
    }

    [Test]
    public void Corrupted_shards_are_rejected_with_the_problem_named()
    {
        var random = TestRandom.Create();
        WriteRandomShard(random);
        var good = File.ReadAllBytes(_path);
        void Expect(Action<byte[]> corrupt, string problem)
        {
            var bytes = (byte[])good.Clone();
            corrupt(bytes);
            File.WriteAllBytes(_path, bytes);
            Assert.That(() => TokenShard.Open(_path), Throws.TypeOf<InvalidDataException>().With.Message.StartsWith(_path + ":").And.Message.Contains(problem));
        }
        Expect(b => b[0] ^= 0xFF, "bad magic");
        Expect(b => b[8] = 9, "format version 9");
        Expect(b => b[32] ^= 0x01, "index offset");
        Expect(b => b[64 + 4 * random.Next((good.Length - 64) / 8)] ^= 0x10, "checksum mismatch");
        Expect(b => b.AsSpan(b.Length - 8).Clear(), "checksum mismatch");
    }
}
