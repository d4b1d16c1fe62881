using System.Diagnostics;
using System.Threading.Channels;
using Tritter.Text;

namespace Tritter.Data.Curation;

/// <summary>
/// <c>tritter curate</c>: walk, curate in parallel, write. The walker numbers the files and feeds a bounded queue,
/// workers (one per core) run <see cref="FileCurator"/>, and one writer takes their outcomes back into walk order,
/// decides duplicates (<see cref="Deduplicator.Admit"/>) in that order and writes kept documents into
/// <see cref="CurationOutput"/>: the output is the same whatever the number of threads. Memory holds at most a few
/// hundred files' texts whatever the tree's size (the queues are bounded; the reorder buffer holds what workers finished
/// ahead of the oldest file still in work). A second, metadata-only walk totals the input for the progress estimate.
/// </summary>
public static class CurationPipeline
{
    /// <summary>Curates <paramref name="inputDirectory"/> into <paramref name="outputDirectory"/> (see <see cref="OutputDirectory.Prepare"/>).</summary>
    /// <param name="inputDirectory">Source tree.</param>
    /// <param name="outputDirectory">Where JSONL, shards, <c>stats.json</c> and <c>summary.txt</c> go.</param>
    /// <param name="options">Stage settings.</param>
    /// <param name="tokenizer">Tokenizer for the shards, or <c>null</c> for JSONL only.</param>
    /// <param name="overwrite">Remove an earlier run's output first instead of refusing.</param>
    /// <param name="progress">Progress reports, about ten a second.</param>
    /// <param name="cancellationToken">Stops the run; completed output files stay, open ones are deleted, and no <c>stats.json</c> is written.</param>
    public static async Task<CurationStats> RunAsync(
        string inputDirectory,
        string outputDirectory,
        CurationOptions options,
        MultiModalTokenizer? tokenizer,
        bool overwrite = false,
        IProgress<CurationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(inputDirectory))
            throw new DirectoryNotFoundException($"input directory '{inputDirectory}' does not exist");
        OutputDirectory.Prepare(outputDirectory, overwrite);
        var stats = new CurationStats { Threads = options.MaxDegreeOfParallelism };
        var deduplicator = new Deduplicator(options);
        var curator = new FileCurator(options, new LicenseDetector(inputDirectory), deduplicator, tokenizer);
        var clock = Stopwatch.StartNew();
        long? totalBytes = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sizeScan = Task.Run(() => totalBytes = SourceTreeWalker.Walk(inputDirectory, stop.Token).Sum(f => f.Length), stop.Token);
        var files = Channel.CreateBounded<(long Index, SourceFile File)>(new BoundedChannelOptions(256) { SingleWriter = true });
        var outcomes = Channel.CreateBounded<(long Index, SourceFile File, CurationOutcome Outcome)>(new BoundedChannelOptions(64) { SingleReader = true });
        var walk = Task.Run(async () =>
        {
            try
            {
                var index = 0L;
                foreach (var file in SourceTreeWalker.Walk(inputDirectory, stop.Token))
                    await files.Writer.WriteAsync((index++, file), stop.Token).ConfigureAwait(false);
            }
            finally
            {
                files.Writer.Complete();
            }
        }, stop.Token);
        var curate = Task.Run(async () =>
        {
            try
            {
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = stop.Token };
                await Parallel.ForEachAsync(files.Reader.ReadAllAsync(stop.Token), parallel, async (item, token) =>
                    await outcomes.Writer.WriteAsync((item.Index, item.File, curator.Process(item.File)), token).ConfigureAwait(false)).ConfigureAwait(false);
            }
            finally
            {
                outcomes.Writer.Complete();
            }
        }, stop.Token);
        using var output = new CurationOutput(outputDirectory, options, tokenizer?.Layout.Size);
        var write = Task.Run(async () =>
        {
            var ahead = new Dictionary<long, (SourceFile File, CurationOutcome Outcome)>();
            var next = 0L;
            await foreach (var (index, file, outcome) in outcomes.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                ahead.Add(index, (file, outcome));
                while (ahead.Remove(next, out var settled))
                {
                    Settle(settled.File, settled.Outcome, deduplicator, stats, output);
                    next++;
                }
            }
            output.Complete();
        }, stop.Token);
        var all = Task.WhenAll(walk, curate, write);
        try
        {
            // The delay ignores cancellation: a cancelled delay would spin this loop and flood the progress handler
            // exactly when the workers need the thread pool to wind down.
            while (await Task.WhenAny(all, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false) != all)
                progress?.Report(new CurationProgress(stats.FilesIn, stats.BytesIn, totalBytes, stats.Kept.Files, clock.Elapsed));
            await all.ConfigureAwait(false);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(walk, curate, write, sizeScan).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }
        await sizeScan.ConfigureAwait(false);
        stats.Elapsed = clock.Elapsed;
        stats.Outputs.AddRange(output.Completed);
        progress?.Report(new CurationProgress(stats.FilesIn, stats.BytesIn, totalBytes, stats.Kept.Files, clock.Elapsed));
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, OutputDirectory.SummaryFile), stats.ToSummary(), CancellationToken.None).ConfigureAwait(false);
        // Written last and atomically: its presence marks a finished run.
        var statsPath = Path.Combine(outputDirectory, OutputDirectory.StatsFile);
        await File.WriteAllTextAsync(statsPath + ".tmp", stats.ToJson(), CancellationToken.None).ConfigureAwait(false);
        File.Move(statsPath + ".tmp", statsPath);
        return stats;
    }

    /// <summary>A file's outcome, in walk order: duplicates are decided here, then counted and written.</summary>
    private static void Settle(SourceFile file, CurationOutcome outcome, Deduplicator deduplicator, CurationStats stats, CurationOutput output)
    {
        if (outcome.Document is not null && deduplicator.Admit(outcome.Fingerprint!) is { } duplicate)
            outcome = new CurationOutcome(null, duplicate, outcome.Language);
        stats.Count(file, outcome);
        if (outcome.Document is { } document)
            output.Write(document);
    }
}
