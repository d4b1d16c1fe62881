using System.Collections.Concurrent;
using System.Text;

namespace Tritter.Text.Bpe;

/// <summary>
/// Learns a byte-level BPE (Microsoft.ML.Tokenizers encodes with one but cannot train one). Documents are split by
/// <see cref="CodePreTokenizer"/>, the distinct pieces are counted, and the most frequent adjacent token pair is merged
/// until the vocabulary is full. Pair counts are updated incrementally over only the pieces that hold the merged
/// pair, with a lazy max-heap over pairs; ties go to the smaller (left, right) id pair, so the merges are
/// deterministic whatever the thread count or document order.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Trains on <paramref name="documents"/> (enumerated once).</summary>
    public static ByteLevelBpeModel Train(
        IEnumerable<string> documents,
        BpeTrainingOptions options,
        IProgress<BpeTrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TextVocabularySize, 256);
        var pieces = CountPieces(documents, options, progress, cancellationToken);
        return new MergeLearner(pieces, options, progress, cancellationToken).Run();
    }

    private static Dictionary<string, long> CountPieces(
        IEnumerable<string> documents, BpeTrainingOptions options, IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        var gate = new object();
        long counted = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.ForEach(
            Partitioner.Create(documents, EnumerablePartitionerOptions.NoBuffering),
            parallel,
            () => new Dictionary<string, long>(StringComparer.Ordinal),
            (document, _, local) =>
            {
                foreach (var (offset, length) in CodePreTokenizer.Instance.PreTokenize(document))
                {
                    var piece = document.Substring(offset, length);
                    local[piece] = local.GetValueOrDefault(piece) + 1;
                }
                var done = Interlocked.Increment(ref counted);
                if (done % 1024 == 0)
                    progress?.Report(new BpeTrainingProgress("counting", done, 0));
                return local;
            },
            local =>
            {
                lock (gate)
                {
                    foreach (var (piece, count) in local)
                        total[piece] = total.GetValueOrDefault(piece) + count;
                }
            });
        progress?.Report(new BpeTrainingProgress("counting", counted, 0));
        return total;
    }

    /// <summary>The merge loop's state: pieces as token-id arrays, pair counts, and where each pair occurs.</summary>
    private sealed class MergeLearner
    {
        private readonly int[][] _words;
        private readonly long[] _wordCounts;
        private readonly Dictionary<long, long> _pairCounts = [];
        private readonly Dictionary<long, List<int>> _pairWords = [];
        private readonly PriorityQueue<long, (long Count, long Pair)> _heap = new(HeapOrder.Instance);
        private readonly List<byte[]> _tokens = [];
        private readonly Dictionary<string, int> _tokenIds = new(StringComparer.Ordinal);
        private readonly List<(int Left, int Right)> _merges = [];
        private readonly BpeTrainingOptions _options;
        private readonly IProgress<BpeTrainingProgress>? _progress;
        private readonly CancellationToken _cancellationToken;

        public MergeLearner(Dictionary<string, long> pieces, BpeTrainingOptions options, IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken)
        {
            _options = options;
            _progress = progress;
            _cancellationToken = cancellationToken;
            for (var b = 0; b < 256; b++)
                AddToken([(byte)b]);
            // Ordinal order of the pieces makes the word numbering, and so the pair-word lists, independent of hashing.
            var ordered = pieces.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
            _words = new int[ordered.Length][];
            _wordCounts = new long[ordered.Length];
            for (var w = 0; w < ordered.Length; w++)
            {
                var bytes = Encoding.UTF8.GetBytes(ordered[w].Key);
                _words[w] = Array.ConvertAll(bytes, b => (int)b);
                _wordCounts[w] = ordered[w].Value;
                AddPairs(w, +1);
            }
            foreach (var (pair, count) in _pairCounts)
                _heap.Enqueue(pair, (count, pair));
        }

        public ByteLevelBpeModel Run()
        {
            var wanted = _options.TextVocabularySize - 256;
            var changed = new HashSet<long>();
            while (_tokens.Count < _options.TextVocabularySize && _heap.TryDequeue(out var pair, out var priority))
            {
                var current = _pairCounts.GetValueOrDefault(pair);
                if (current != priority.Count)
                {
                    if (current > 0)
                        _heap.Enqueue(pair, (current, pair));
                    continue;
                }
                if (current < _options.MinPairCount)
                    break;
                _cancellationToken.ThrowIfCancellationRequested();
                var (left, right) = Split(pair);
                var merged = AddToken([.. _tokens[left], .. _tokens[right]]);
                _merges.Add((left, right));
                changed.Clear();
                foreach (var w in _pairWords[pair].Distinct().ToArray())
                    MergeInWord(w, left, right, merged, changed);
                foreach (var p in changed)
                {
                    var count = _pairCounts.GetValueOrDefault(p);
                    if (count > 0)
                        _heap.Enqueue(p, (count, p));
                }
                if (_merges.Count % 256 == 0)
                    _progress?.Report(new BpeTrainingProgress("merging", _merges.Count, wanted));
            }
            _progress?.Report(new BpeTrainingProgress("merging", _merges.Count, wanted));
            return new ByteLevelBpeModel(_tokens, _merges);
        }

        private void MergeInWord(int w, int left, int right, int merged, HashSet<long> changed)
        {
            var word = _words[w];
            var found = false;
            for (var i = 0; i + 1 < word.Length && !found; i++)
                found = word[i] == left && word[i + 1] == right;
            if (!found)
                return;
            AddPairs(w, -1, changed);
            var result = new List<int>(word.Length);
            for (var i = 0; i < word.Length; i++)
            {
                if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
                {
                    result.Add(merged);
                    i++;
                }
                else
                {
                    result.Add(word[i]);
                }
            }
            _words[w] = [.. result];
            AddPairs(w, +1, changed);
        }

        private void AddPairs(int w, int sign, HashSet<long>? changed = null)
        {
            var word = _words[w];
            var delta = sign * _wordCounts[w];
            for (var i = 0; i + 1 < word.Length; i++)
            {
                var pair = Pair(word[i], word[i + 1]);
                _pairCounts[pair] = _pairCounts.GetValueOrDefault(pair) + delta;
                changed?.Add(pair);
                if (sign > 0)
                {
                    if (!_pairWords.TryGetValue(pair, out var list))
                        _pairWords[pair] = list = [];
                    if (list.Count == 0 || list[^1] != w)
                        list.Add(w);
                }
            }
        }

        // Two merge paths can build the same bytes ("ab"+"c" and "a"+"bc"): the second merge reuses the first's id,
        // so every id stands for exactly one byte string.
        private int AddToken(byte[] bytes)
        {
            var key = ByteLevelAlphabet.Encode(bytes);
            if (_tokenIds.TryGetValue(key, out var id))
                return id;
            id = _tokens.Count;
            _tokens.Add(bytes);
            _tokenIds[key] = id;
            return id;
        }

        private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

        private static (int Left, int Right) Split(long pair) => ((int)(pair >> 32), (int)(uint)pair);
    }

    /// <summary>Highest count first; among equal counts the smaller pair key, which makes training deterministic.</summary>
    private sealed class HeapOrder : IComparer<(long Count, long Pair)>
    {
        public static readonly HeapOrder Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y)
        {
            var byCount = y.Count.CompareTo(x.Count);
            return byCount != 0 ? byCount : x.Pair.CompareTo(y.Pair);
        }
    }
}
