using System.Diagnostics;
using System.Threading.Channels;
using Tritter.Text;

namespace Tritter.Data.Curation;

/// <summary>
/// <c>tritter curate</c>: walk, curate in parallel, write. The walker feeds a bounded queue, workers (one per core)
/// run <see cref="FileCurator"/>, and one writer drains a bounded queue of kept documents into
/// <see cref="CurationOutput"/>; memory holds at most a few hundred files' texts whatever the tree's size. A second,
/// metadata-only walk totals the input for the progress estimate.
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
        var curator = new FileCurator(options, new LicenseDetector(inputDirectory), new Deduplicator(options), tokenizer);
        var clock = Stopwatch.StartNew();
        long? totalBytes = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sizeScan = Task.Run(() => totalBytes = SourceTreeWalker.Walk(inputDirectory, stop.Token).Sum(f => f.Length), stop.Token);
        var files = Channel.CreateBounded<SourceFile>(new BoundedChannelOptions(256) { SingleWriter = true });
        var kept = Channel.CreateBounded<CuratedDocument>(new BoundedChannelOptions(64) { SingleReader = true });
        var walk = Task.Run(async () =>
        {
            try
            {
                foreach (var file in SourceTreeWalker.Walk(inputDirectory, stop.Token))
                    await files.Writer.WriteAsync(file, stop.Token).ConfigureAwait(false);
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
                await Parallel.ForEachAsync(files.Reader.ReadAllAsync(stop.Token), parallel, async (file, token) =>
                {
                    var outcome = curator.Process(file);
                    stats.Count(file, outcome);
                    if (outcome.Document is { } document)
                        await kept.Writer.WriteAsync(document, token).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            finally
            {
                kept.Writer.Complete();
            }
        }, stop.Token);
        using var output = new CurationOutput(outputDirectory, options, tokenizer?.Layout.Size);
        var write = Task.Run(async () =>
        {
            await foreach (var document in kept.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                output.Write(document);
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
}
