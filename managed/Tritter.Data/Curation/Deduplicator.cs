using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Tritter.Data.Curation;

/// <summary>
/// Exact and near-duplicate removal across the whole corpus, safe to call from many threads. Exact: a 128-bit
/// XxHash128 of the text. Near: MinHash signatures split into LSH bands of <see cref="CurationOptions.LshRowsPerBand"/>
/// rows; a file sharing any band with a kept file is compared with it by signature, and dropped when the estimated
/// Jaccard similarity reaches <see cref="CurationOptions.NearDuplicateThreshold"/>. Memory grows with the number of
/// kept files (16 bytes of exact hash, and 2 bytes per permutation plus the band keys), never with their size.
/// <see cref="Fingerprint"/> (the costly part) runs on any thread; <see cref="Admit"/> decides, and a caller that
/// admits in a fixed order (the pipeline: the walk's order) keeps the same files whatever the threads.
/// </summary>
public sealed class Deduplicator
{
    private readonly ConcurrentDictionary<UInt128, byte> _exact = new();
    private readonly Dictionary<(int Band, ulong Hash), List<int>> _bands = [];
    private readonly List<ushort[]> _signatures = [];
    private readonly Lock _nearGate = new();
    private readonly MinHasher _hasher;
    private readonly int _rows;
    private readonly double _threshold;

    /// <summary>A deduplicator with the thresholds and sizes of <paramref name="options"/>.</summary>
    public Deduplicator(CurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinHashPermutations % options.LshRowsPerBand != 0)
            throw new ArgumentException($"MinHash permutations ({options.MinHashPermutations}) must be a multiple of the LSH rows per band ({options.LshRowsPerBand})", nameof(options));
        _hasher = new MinHasher(options.MinHashPermutations);
        _rows = options.LshRowsPerBand;
        _threshold = options.NearDuplicateThreshold;
    }

    /// <summary>
    /// Records <paramref name="text"/> as kept unless it duplicates a text kept before; returns the
    /// <see cref="DropReasons"/> value when it does.
    /// </summary>
    public string? Check(string text) => Admit(Fingerprint(text));

    /// <summary>The hashes <see cref="Admit"/> decides on: pure, thread-safe, the costly part of deduplication.</summary>
    public DuplicateFingerprint Fingerprint(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var exact = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(text.AsSpan()));
        var signature = _hasher.Signature(text);
        // Stored as the low 16 bits: two different minima then collide with probability 1/65536, a negligible bias.
        var compact = Array.ConvertAll(signature, v => (ushort)v);
        var bandKeys = new (int, ulong)[signature.Length / _rows];
        for (var band = 0; band < bandKeys.Length; band++)
            bandKeys[band] = (band, XxHash3.HashToUInt64(MemoryMarshal.AsBytes(signature.AsSpan(band * _rows, _rows))));
        return new DuplicateFingerprint(exact, compact, bandKeys);
    }

    /// <summary>
    /// Records a text by its <paramref name="fingerprint"/> as kept unless it duplicates one admitted before; returns the
    /// <see cref="DropReasons"/> value when it does.
    /// </summary>
    public string? Admit(DuplicateFingerprint fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        if (!_exact.TryAdd(fingerprint.Exact, 0))
            return DropReasons.ExactDuplicate;
        var (compact, bandKeys) = (fingerprint.Signature, fingerprint.BandKeys);
        lock (_nearGate)
        {
            var compared = new HashSet<int>();
            foreach (var key in bandKeys)
            {
                if (!_bands.TryGetValue(key, out var candidates))
                    continue;
                foreach (var candidate in candidates)
                {
                    if (compared.Add(candidate) && MinHasher.Similarity<ushort>(compact, _signatures[candidate]) >= _threshold)
                        return DropReasons.NearDuplicate;
                }
            }
            var id = _signatures.Count;
            _signatures.Add(compact);
            foreach (var key in bandKeys)
            {
                if (!_bands.TryGetValue(key, out var list))
                    _bands[key] = list = [];
                list.Add(id);
            }
        }
        return null;
    }
}

/// <summary>A text's hashes for <see cref="Deduplicator.Admit"/>.</summary>
/// <param name="Exact">XxHash128 of the text.</param>
/// <param name="Signature">MinHash signature, low 16 bits of each minimum.</param>
/// <param name="BandKeys">LSH band keys of the full signature.</param>
public sealed record DuplicateFingerprint(UInt128 Exact, ushort[] Signature, (int Band, ulong Hash)[] BandKeys);
