using Tritter.Data.Curation;
using Tritter.Data.Shards;
using Tritter.Tests.Support;
using Tritter.Text;
using Tritter.Text.Bpe;

namespace Tritter.Tests.Data;

/// <summary>The whole pipeline on a crafted tree: drops counted by reason, secrets never written, shards decode to the kept texts, re-runs refuse.</summary>
public sealed class CurationPipelineTests
{
    private const string Secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    private static (TempTree Tree, List<string> Modules) CraftedTree(Random random)
    {
        var tree = new TempTree();
        var modules = SampleCorpus.PythonModules(random, 6, 4);
        // LICENSE itself has no language and is dropped; it licenses the files below it.
        tree.Write("LICENSE", "Permission is hereby granted, free of charge, to any person");
        for (var i = 0; i < modules.Count; i++)
            tree.Write($"pkg/m{i}.py", modules[i]);
        tree.Write("pkg/copy_of_m0.py", modules[0]);
        tree.Write("pkg/leaky.py", SampleCorpus.PythonModule(random, 2) + $"TOKEN = \"{Secret}\"\n");
        var binary = new byte[300];
        random.NextBytes(binary);
        binary[10] = 0;
        tree.Write("pkg/blob.py", binary);
        tree.Write("pkg/icon.png", binary);
        tree.Write("node_modules/dep.js", "module.exports = 1;\n");
        return (tree, modules);
    }

    private static MultiModalTokenizer SmallTokenizer(Random random) => MultiModalTokenizer.FromModel(
        BpeTrainer.Train(SampleCorpus.PythonModules(random, 10, 4), new BpeTrainingOptions { TextVocabularySize = 400 }), new CodebookSizes(16, 16));

    /// <summary>
    /// Parallel curation gives the output of a single thread, byte for byte: files of many sizes (so workers finish out
    /// of order) with exact and near duplicates placed both before and after their originals in the walk.
    /// </summary>
    [Test]
    public async Task Output_is_the_same_for_any_number_of_threads()
    {
        var random = TestRandom.Create();
        using var tree = new TempTree();
        tree.Write("LICENSE", "Permission is hereby granted, free of charge, to any person");
        // The first files in walk order are the largest, so parallel workers finish the small ones after them first.
        var modules = Enumerable.Range(0, 60).Select(i => SampleCorpus.PythonModule(random, i < 4 ? 600 : 1 + i % 7 * 5)).ToList();
        for (var i = 0; i < modules.Count; i++)
            tree.Write($"pkg/m{i:D2}.py", modules[i]);
        for (var i = 1; i < 10; i++)
        {
            tree.Write($"a_copy/c{i}.py", modules[i * 6]);
            tree.Write($"z_near/n{i}.py", modules[i * 6 + 1] + "\n# one more line\n");
        }
        var tokenizer = SmallTokenizer(random);
        var outputs = new List<string>();
        try
        {
            var contents = new List<string[]>();
            foreach (var threads in new[] { 1, 4, 8 })
            {
                var output = Path.Combine(Path.GetTempPath(), $"tritter-curate-{Guid.NewGuid():N}");
                outputs.Add(output);
                var stats = await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions { MaxDegreeOfParallelism = threads }, tokenizer);
                Assert.That(stats.Dropped.Keys, Does.Contain(DropReasons.ExactDuplicate).And.Contain(DropReasons.NearDuplicate));
                contents.Add([.. Directory.GetFiles(output).Where(f => !f.EndsWith("stats.json", StringComparison.Ordinal) && !f.EndsWith("summary.txt", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f) + ":" + Convert.ToHexString(File.ReadAllBytes(f)))]);
            }
            Assert.That(contents[1], Is.EqualTo(contents[0]), "4 threads");
            Assert.That(contents[2], Is.EqualTo(contents[0]), "8 threads");
        }
        finally
        {
            foreach (var output in outputs.Where(Directory.Exists))
                Directory.Delete(output, recursive: true);
        }
    }

    [Test]
    public async Task Curation_counts_drops_keeps_no_secret_and_writes_shards_that_decode_to_the_kept_texts()
    {
        var random = TestRandom.Create();
        var (tree, modules) = CraftedTree(random);
        using var _ = tree;
        var output = Path.Combine(tree.Root, "..", Path.GetFileName(tree.Root) + "-out");
        try
        {
            var tokenizer = SmallTokenizer(random);
            var stats = await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions(), tokenizer);
            Assert.That(stats.Kept.Files, Is.EqualTo(modules.Count));
            Assert.That(stats.Dropped.ToDictionary(p => p.Key, p => p.Value.Files), Is.EquivalentTo(new Dictionary<string, long>
            {
                [DropReasons.ExactDuplicate] = 1,
                [DropReasons.Secret] = 1,
                [DropReasons.Binary] = 1,
                [DropReasons.UnknownLanguage] = 2,
            }));
            var everything = string.Concat(Directory.GetFiles(output).Select(File.ReadAllText));
            Assert.That(everything, Does.Not.Contain(Secret));
            var records = CuratedCorpus.Read(output).ToList();
            Assert.That(records.Select(r => r.Text), Is.EquivalentTo(modules));
            using var shard = TokenShard.Open(Path.Combine(output, "tokens-00000.bin"));
            Assert.That(shard.DocumentCount, Is.EqualTo(records.Count));
            Assert.That(shard.TokenCount, Is.EqualTo(stats.Tokens));
            var decoded = shard.Documents().Select(d => tokenizer.Decode(d.Span)).ToList();
            Assert.That(decoded, Is.EqualTo(records.Select(r => "<code>" + r.Text + "</code>")));
            Assert.That(File.Exists(Path.Combine(output, OutputDirectory.StatsFile)) && File.Exists(Path.Combine(output, OutputDirectory.SummaryFile)), Is.True);

            Assert.That(async () => await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions(), null),
                Throws.InstanceOf<IOException>().With.Message.Contains("already holds a finished curation"));
            var again = await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions { Secrets = SecretPolicy.Redact }, null, overwrite: true);
            Assert.That(again.Kept.Files, Is.EqualTo(modules.Count + 1), "the redacted file is kept");
            Assert.That(string.Concat(Directory.GetFiles(output).Select(File.ReadAllText)), Does.Not.Contain(Secret).And.Contain(SecretScanner.Redaction));
        }
        finally
        {
            if (Directory.Exists(output))
                Directory.Delete(output, recursive: true);
        }
    }

    [Test]
    public async Task Cancelled_run_leaves_no_temporary_files_and_no_stats_then_refuses_to_mix()
    {
        var random = TestRandom.Create();
        var (tree, _) = CraftedTree(random);
        using var _1 = tree;
        var output = Path.Combine(tree.Root, "..", Path.GetFileName(tree.Root) + "-out");
        try
        {
            using var cancel = new CancellationTokenSource();
            await cancel.CancelAsync();
            Assert.That(async () => await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions(), SmallTokenizer(random), cancellationToken: cancel.Token),
                Throws.InstanceOf<OperationCanceledException>());
            Assert.That(Directory.GetFiles(output), Is.Empty);
            // An output abandoned mid-file (what Ctrl-C does) deletes its temporary files and leaves nothing under a real name.
            using (var abandoned = new CurationOutput(output, new CurationOptions(), 1000))
                abandoned.Write(new CuratedDocument("x = 1\n", Tritter.Text.Code.SourceLanguage.Python, "a.py", "MIT", 1, [], [5, 100, 9], 6));
            Assert.That(Directory.GetFiles(output), Is.Empty);
            File.WriteAllText(Path.Combine(output, "documents-00000.jsonl"), "{}\n");
            Assert.That(async () => await CurationPipeline.RunAsync(tree.Root, output, new CurationOptions(), null),
                Throws.InstanceOf<IOException>().With.Message.Contains("interrupted curation"));
        }
        finally
        {
            if (Directory.Exists(output))
                Directory.Delete(output, recursive: true);
        }
    }
}
