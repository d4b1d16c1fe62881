using Tritter.Data.Shards;
using Tritter.Text;

namespace Tritter.Cli.Training;

/// <summary>
/// The tokens a run trains on: every <c>tokens-*.bin</c> shard of a curated directory, documents back to back, the last
/// documents (about 5% of the tokens) held out for evaluation; and the tokenizer that made them.
/// </summary>
internal sealed record TrainingData(int[] Train, int[] Eval, MultiModalTokenizer Tokenizer, string TokenizerPath, int Documents)
{
    public const string TokenizerFile = "tokenizer.json";

    /// <summary>Loads <paramref name="directory"/>; every problem is a one-line <see cref="CliUsageException"/>.</summary>
    public static TrainingData Load(string directory, string? tokenizerPath)
    {
        if (!Directory.Exists(directory))
            throw new CliUsageException($"--data {directory}: no such directory");
        var shards = Directory.GetFiles(directory, "tokens-*.bin").Order(StringComparer.Ordinal).ToArray();
        if (shards.Length == 0)
            throw new CliUsageException($"--data {directory}: no token shards (tokens-*.bin); run 'tritter curate <source dir> --out {directory} --tokenizer <tokenizer.json>' first");
        tokenizerPath ??= Path.Combine(directory, TokenizerFile);
        if (!File.Exists(tokenizerPath))
            throw new CliUsageException($"{tokenizerPath}: no tokenizer; pass --tokenizer <tokenizer.json>");

        var documents = new List<int[]>();
        var vocabulary = 0;
        foreach (var path in shards)
        {
            using var shard = TokenShard.Open(path);
            vocabulary = Math.Max(vocabulary, shard.VocabularySize);
            foreach (var document in shard.Documents())
                documents.Add(document.ToArray());
        }
        var tokenizer = new[] { CodebookSizes.None, CodebookSizes.Default }
            .Select(c => MultiModalTokenizer.Load(tokenizerPath, c))
            .FirstOrDefault(t => t.Layout.Size == vocabulary)
            ?? throw new CliUsageException($"{tokenizerPath}: its vocabulary does not match the shards' {vocabulary} ids; curate again with this tokenizer");

        var total = documents.Sum(d => (long)d.Length);
        var heldOut = 0L;
        var split = documents.Count;
        while (split > 1 && heldOut < total / 20)
            heldOut += documents[--split].Length;
        var train = documents.Take(split).SelectMany(d => d).ToArray();
        var eval = documents.Skip(split).SelectMany(d => d).ToArray();
        return new TrainingData(train, eval, tokenizer, tokenizerPath, documents.Count);
    }
}
