using System.Text.Json.Nodes;
using Tritter.Tests.Support;
using Tritter.Text;
using Tritter.Text.Bpe;

namespace Tritter.Tests.Text;

/// <summary>Hostile and broken tokenizer.json files fail with a message naming the file and the problem.</summary>
public sealed class TokenizerFileTests
{
    private string _path = "";
    private JsonNode _valid = null!;

    [SetUp]
    public void WriteValidFile()
    {
        _path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"tokenizer-{Guid.NewGuid():N}.json");
        var model = BpeTrainer.Train(SampleCorpus.PythonModules(TestRandom.Create(), 5, 3), new BpeTrainingOptions { TextVocabularySize = 300 });
        HuggingFaceTokenizerFile.Write(_path, model);
        _valid = JsonNode.Parse(File.ReadAllText(_path))!;
    }

    [TearDown]
    public void Delete() => File.Delete(_path);

    private void ExpectRejected(string contents, string problem)
    {
        File.WriteAllText(_path, contents);
        Assert.That(() => MultiModalTokenizer.Load(_path, CodebookSizes.None),
            Throws.TypeOf<InvalidDataException>().With.Message.StartsWith(_path + ":").And.Message.Contains(problem));
    }

    private string Mutated(Action<JsonNode> change)
    {
        var copy = _valid.DeepClone();
        change(copy);
        return copy.ToJsonString();
    }

    [Test]
    public void Truncated_file_is_rejected() => ExpectRejected(_valid.ToJsonString()[..200], "not valid JSON");

    [Test]
    public void Wrong_model_type_is_rejected() => ExpectRejected(Mutated(j => j["model"]!["type"] = "WordPiece"), "expected 'BPE'");

    [Test]
    public void Wrong_typed_vocab_is_rejected() => ExpectRejected(Mutated(j => j["model"]!["vocab"] = new JsonArray()), "'vocab' is Array");

    [Test]
    public void Missing_special_token_is_rejected() =>
        ExpectRejected(Mutated(j => j["added_tokens"]!.AsArray().RemoveAt(5)), "added token 5 is 'missing', expected '<code>'");

    [Test]
    public void Duplicate_id_is_rejected() =>
        ExpectRejected(Mutated(j => j["model"]!["vocab"]!["Ġ"] = SpecialTokens.Count), "each once");

    [Test]
    public void Merge_of_unknown_token_is_rejected() =>
        ExpectRejected(Mutated(j => j["model"]!["merges"]!.AsArray().Add(new JsonArray("nope", "x"))), "not in the vocab");

    [Test]
    public void Character_outside_the_byte_alphabet_is_rejected() =>
        ExpectRejected(Mutated(j => j["model"]!["vocab"]!["\u4e2d"] = SpecialTokens.Count + 300), "not in the byte-level alphabet");
}
