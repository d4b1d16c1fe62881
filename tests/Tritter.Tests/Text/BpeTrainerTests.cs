using System.Text;
using Tritter.Tests.Support;
using Tritter.Text;
using Tritter.Text.Bpe;

namespace Tritter.Tests.Text;

/// <summary>BPE training, the tokenizer.json round trip through Microsoft.ML.Tokenizers, and exact byte round trips.</summary>
public sealed class BpeTrainerTests
{
    private const int TextVocabulary = 256 + 400;

    private static IEnumerable<byte[]> HardStrings(Random random)
    {
        var randomBytes = new byte[random.Next(200, 2000)];
        random.NextBytes(randomBytes);
        yield return randomBytes;
        yield return [0xFF, 0xFE, (byte)'a', 0xC3, (byte)'b', 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98];
        yield return Encoding.UTF8.GetBytes("emoji 👩‍💻🎉 and ÿ é 中文 \U0001F600");
        yield return Encoding.UTF8.GetBytes("line one\r\nline two\r\n\r\n\tindented\t\ttabs \t \n   trailing   ");
        yield return Encoding.UTF8.GetBytes(SampleCorpus.PythonModule(random, 2));
        yield return Encoding.UTF8.GetBytes("<pad><|endoftext|></code>");
        yield return [];
    }

    [Test]
    public void Trained_vocabulary_round_trips_every_byte_string_exactly()
    {
        var random = TestRandom.Create();
        var model = BpeTrainer.Train(SampleCorpus.PythonModules(random, 40, 6), new BpeTrainingOptions { TextVocabularySize = TextVocabulary });
        Assert.That(model.Tokens, Has.Count.EqualTo(TextVocabulary));
        var tokenizer = MultiModalTokenizer.FromModel(model, CodebookSizes.None);
        foreach (var bytes in HardStrings(random))
        {
            var ids = tokenizer.EncodeBytes(bytes);
            Assert.That(ids, Is.All.InRange(SpecialTokens.Count, SpecialTokens.Count + TextVocabulary - 1));
            Assert.That(tokenizer.DecodeBytes(ids), Is.EqualTo(bytes), Convert.ToHexString(bytes));
        }
    }

    [Test]
    public void Merges_are_deterministic_across_thread_counts_and_document_order()
    {
        var random = TestRandom.Create();
        var documents = SampleCorpus.PythonModules(random, 30, 5);
        var first = BpeTrainer.Train(documents, new BpeTrainingOptions { TextVocabularySize = TextVocabulary, MaxDegreeOfParallelism = 1 });
        var reversed = Enumerable.Reverse(documents).ToList();
        var second = BpeTrainer.Train(reversed, new BpeTrainingOptions { TextVocabularySize = TextVocabulary, MaxDegreeOfParallelism = 2 });
        Assert.That(second.Merges, Is.EqualTo(first.Merges));
        Assert.That(second.Tokens, Is.EqualTo(first.Tokens));
    }

    [Test]
    public void Tokenizer_json_loads_in_the_library_and_encodes_like_the_textbook_algorithm()
    {
        var random = TestRandom.Create();
        var model = BpeTrainer.Train(SampleCorpus.PythonModules(random, 40, 6), new BpeTrainingOptions { TextVocabularySize = TextVocabulary });
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            HuggingFaceTokenizerFile.Write(path, model);
            var loaded = HuggingFaceTokenizerFile.Read(path);
            Assert.That(loaded.Merges, Is.EqualTo(model.Merges));
            Assert.That(loaded.Tokens, Is.EqualTo(model.Tokens));
            var tokenizer = MultiModalTokenizer.Load(path, CodebookSizes.None);
            foreach (var text in SampleCorpus.PythonModules(random, 5, 3).Append("mixed ÿ 👩‍💻\r\n\tx = 12345678;"))
                Assert.That(tokenizer.EncodeBytes(Encoding.UTF8.GetBytes(text)), Is.EqualTo(ReferenceBpe.Encode(model, text)), text);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Training_compresses_the_corpus_it_learned_from()
    {
        var random = TestRandom.Create();
        var documents = SampleCorpus.PythonModules(random, 40, 6);
        var tokenizer = MultiModalTokenizer.FromModel(
            BpeTrainer.Train(documents, new BpeTrainingOptions { TextVocabularySize = TextVocabulary }), CodebookSizes.None);
        var bytes = Encoding.UTF8.GetBytes(documents[0]);
        Assert.That((double)bytes.Length / tokenizer.EncodeBytes(bytes).Length, Is.GreaterThan(2.0));
    }
}
