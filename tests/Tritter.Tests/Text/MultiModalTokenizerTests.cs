using System.Text;
using Tritter.Tests.Support;
using Tritter.Text;
using Tritter.Text.Bpe;
using Tritter.Text.Code;

namespace Tritter.Tests.Text;

/// <summary>The shared id space, modality spans, code blocks in code mode, and the pretrained tiktoken option.</summary>
public sealed class MultiModalTokenizerTests
{
    private static MultiModalTokenizer Trained(Random random, CodebookSizes codebooks) =>
        MultiModalTokenizer.FromModel(
            BpeTrainer.Train(SampleCorpus.PythonModules(random, 20, 5), new BpeTrainingOptions { TextVocabularySize = 512 }), codebooks);

    [Test]
    public void Id_space_is_specials_then_text_then_image_then_audio()
    {
        var tokenizer = Trained(TestRandom.Create(), new CodebookSizes(100, 50));
        var layout = tokenizer.Layout;
        Assert.That(SpecialTokens.Names.Take(8), Is.EqualTo(new[] { "<pad>", "<bos>", "<eos>", "<unk>", "<text>", "<code>", "<image>", "<audio>" }));
        Assert.That((VocabularyLayout.TextStart, layout.ImageStart, layout.AudioStart, layout.Size),
            Is.EqualTo((SpecialTokens.Count, SpecialTokens.Count + 512, SpecialTokens.Count + 612, SpecialTokens.Count + 662)));
        Assert.That(layout.ModalityOf(SpecialTokens.Pad), Is.Null);
        Assert.That(layout.ModalityOf(layout.ImageStart - 1), Is.EqualTo(Modality.Text));
        Assert.That(layout.ModalityOf(layout.ImageStart), Is.EqualTo(Modality.Image));
        Assert.That(layout.ModalityOf(layout.Size - 1), Is.EqualTo(Modality.Audio));
        var names = Enumerable.Range(0, layout.Size).Select(tokenizer.TokenName).ToList();
        Assert.That(names, Is.Unique);
    }

    [Test]
    public void An_id_outside_the_vocabulary_is_a_clear_error()
    {
        var tokenizer = Trained(TestRandom.Create(), new CodebookSizes(10, 10));
        var size = tokenizer.Layout.Size;
        Assert.That(() => tokenizer.DecodeBytes([5, size]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains($"token id {size} is outside the vocabulary [0, {size})"));
        Assert.That(() => tokenizer.Decode([-1]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => tokenizer.EncodeCodebook([3, 10], Modality.Image),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("outside the codebook"));
    }

    [Test]
    public void Modality_spans_carry_their_markers_and_codebook_ids_land_in_their_range()
    {
        var random = TestRandom.Create();
        var tokenizer = Trained(random, new CodebookSizes(64, 32));
        var text = tokenizer.Encode("hello world", Modality.Text).Ids;
        Assert.That((text[0], text[^1]), Is.EqualTo((SpecialTokens.TextBegin, SpecialTokens.TextEnd)));
        Assert.That(tokenizer.Decode(text), Is.EqualTo("<text>hello world</text>"));
        var codes = Enumerable.Range(0, 20).Select(_ => random.Next(64)).ToArray();
        var image = tokenizer.EncodeCodebook(codes, Modality.Image);
        Assert.That(image[1..^1].Select(id => id - tokenizer.Layout.ImageStart), Is.EqualTo(codes));
        Assert.That((image[0], image[^1]), Is.EqualTo((SpecialTokens.ImageBegin, SpecialTokens.ImageEnd)));
        var fim = tokenizer.EncodeFillInTheMiddle("def f(", "x", "):\n");
        Assert.That(fim.Where(id => id < SpecialTokens.Count), Is.EqualTo(new[] { SpecialTokens.FimPrefix, SpecialTokens.FimSuffix, SpecialTokens.FimMiddle }));
    }

    [Test]
    public void Code_mode_reports_where_each_block_starts_and_decodes_exactly()
    {
        var random = TestRandom.Create();
        var tokenizer = Trained(random, CodebookSizes.None);
        var source = SampleCorpus.PythonModule(random, 4);
        var document = tokenizer.Encode(source, Modality.Code, SourceLanguage.Python);
        Assert.That(document.BlockStarts, Has.Length.EqualTo(4));
        Assert.That(tokenizer.Decode(document.Ids.AsSpan(1, document.Ids.Length - 2)), Is.EqualTo(source));
        foreach (var start in document.BlockStarts)
            Assert.That(tokenizer.Decode(document.Ids.AsSpan(start)), Does.StartWith("def "));
        var batch = tokenizer.EncodeBatch([source, "x = 1\n"], Modality.Code, SourceLanguage.Python);
        Assert.That(batch[0].Ids, Is.EqualTo(document.Ids));
    }

    [Test]
    public void Cl100k_loads_offline_and_round_trips_bytes_in_the_text_range()
    {
        var random = TestRandom.Create();
        var tokenizer = MultiModalTokenizer.FromTiktoken("cl100k_base", CodebookSizes.Default);
        Assert.That(tokenizer.Layout.TextCount, Is.EqualTo(100256));
        var bytes = new byte[1000];
        random.NextBytes(bytes);
        foreach (var sample in new[] { bytes, Encoding.UTF8.GetBytes("x <|endoftext|> 👩‍💻 \r\n\tdef f(): pass") })
        {
            var ids = tokenizer.EncodeBytes(sample);
            Assert.That(ids, Is.All.InRange(VocabularyLayout.TextStart, tokenizer.Layout.ImageStart - 1));
            Assert.That(tokenizer.DecodeBytes(ids), Is.EqualTo(sample));
        }
        Assert.That(tokenizer.EncodeBytes("hello world"u8.ToArray()), Has.Length.EqualTo(2));
    }
}
