namespace Tritter.Data.Curation;

/// <summary>What to do with a file that carries no licence at all.</summary>
public enum MissingLicensePolicy
{
    /// <summary>Drop it (reason <see cref="DropReasons.LicenseMissing"/>).</summary>
    Drop,

    /// <summary>Keep it, with licence "unknown".</summary>
    Keep,
}

/// <summary>What to do with a file in which a secret was found.</summary>
public enum SecretPolicy
{
    /// <summary>Drop the whole file (reason <see cref="DropReasons.Secret"/>).</summary>
    Drop,

    /// <summary>Replace each secret with <see cref="SecretScanner.Redaction"/> and keep the file.</summary>
    Redact,
}

/// <summary>The knobs of every curation stage, with the defaults of <c>tritter curate</c>.</summary>
public sealed record CurationOptions
{
    /// <summary>Files larger than this are dropped unread.</summary>
    public long MaxFileBytes { get; init; } = 1 << 20;

    /// <summary>Files smaller than this are dropped unread.</summary>
    public long MinFileBytes { get; init; } = 16;

    /// <summary>A file with a longer line is dropped.</summary>
    public int MaxLineLength { get; init; } = 1000;

    /// <summary>A file whose mean line length exceeds this is dropped.</summary>
    public double MaxMeanLineLength { get; init; } = 100;

    /// <summary>A file with a smaller fraction of letters and digits is dropped.</summary>
    public double MinAlphanumericFraction { get; init; } = 0.25;

    /// <summary>Licences (SPDX ids) whose files are kept.</summary>
    public IReadOnlySet<string> AllowedLicenses { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "PSF-2.0", "Python-2.0", "Unlicense", "CC0-1.0", "0BSD", "Zlib", "BSL-1.0",
    };

    /// <summary>What happens to a file without any licence.</summary>
    public MissingLicensePolicy MissingLicense { get; init; } = MissingLicensePolicy.Drop;

    /// <summary>What happens to a file with a secret.</summary>
    public SecretPolicy Secrets { get; init; } = SecretPolicy.Drop;

    /// <summary>Estimated Jaccard similarity of word 5-gram sets at or above which a file is a near duplicate of one kept earlier.</summary>
    public double NearDuplicateThreshold { get; init; } = 0.85;

    /// <summary>MinHash permutations; the similarity estimate's standard deviation is about 1/sqrt of this.</summary>
    public int MinHashPermutations { get; init; } = 512;

    /// <summary>Rows per LSH band; the permutations are split into bands of this many.</summary>
    public int LshRowsPerBand { get; init; } = 8;

    /// <summary>Tokens per output shard before a new one is started.</summary>
    public long TokensPerShard { get; init; } = 256L << 20;

    /// <summary>Bytes per JSONL file before a new one is started.</summary>
    public long BytesPerJsonlFile { get; init; } = 256L << 20;

    /// <summary>Files processed at once; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
