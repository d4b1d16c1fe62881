using System.Text;
using Tritter.Text;
using Tritter.Text.Code;

namespace Tritter.Data.Curation;

/// <summary>The result of curating one file: a kept document, or the reason it was dropped.</summary>
/// <param name="Document">The kept document, or <c>null</c>.</param>
/// <param name="DropReason">A <see cref="DropReasons"/> value when dropped.</param>
/// <param name="Language">The detected language (for the statistics), also when dropped after detection.</param>
/// <param name="Fingerprint">A kept document's hashes, for the deduplication that <see cref="Deduplicator.Admit"/> decides.</param>
public readonly record struct CurationOutcome(CuratedDocument? Document, string? DropReason, SourceLanguage Language, DuplicateFingerprint? Fingerprint = null);

/// <summary>
/// Runs one file through the stages, cheapest first: size, language, binary check, quality, licence, secrets, the
/// deduplication fingerprint, then block splitting and tokenisation. Whether the file duplicates an earlier one is
/// decided by <see cref="Deduplicator.Admit"/> on the outcome's fingerprint, in an order the caller fixes.
/// Thread-safe; one instance serves the whole run.
/// </summary>
public sealed class FileCurator(CurationOptions options, LicenseDetector licenses, Deduplicator deduplicator, MultiModalTokenizer? tokenizer)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Curates <paramref name="file"/>.</summary>
    public CurationOutcome Process(SourceFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length > options.MaxFileBytes)
            return Dropped(DropReasons.TooLarge);
        if (file.Length < options.MinFileBytes)
            return Dropped(DropReasons.TooSmall);
        var language = LanguageDetector.FromPath(file.FullPath);
        byte[] bytes;
        try
        {
            // A file without a known extension is read in full only if its first line names an interpreter.
            if (language == SourceLanguage.Unknown && (language = LanguageDetector.FromShebang(ReadHead(file.FullPath))) == SourceLanguage.Unknown)
                return Dropped(DropReasons.UnknownLanguage);
            bytes = File.ReadAllBytes(file.FullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Dropped(DropReasons.Unreadable, language);
        }
        if (bytes.AsSpan(0, Math.Min(bytes.Length, 8192)).Contains((byte)0) || !TryDecode(bytes, out var text))
            return Dropped(DropReasons.Binary, language);
        var (qualityDrop, quality) = QualityFilter.Evaluate(text, options);
        if (qualityDrop is not null)
            return Dropped(qualityDrop, language);
        var license = licenses.Detect(file.FullPath, text);
        if (license is null && options.MissingLicense == MissingLicensePolicy.Drop)
            return Dropped(DropReasons.LicenseMissing, language);
        if (license is not null && !options.AllowedLicenses.Contains(license))
            return Dropped(DropReasons.LicenseNotAllowed, language);
        var secrets = SecretScanner.Scan(text);
        if (secrets.Count > 0)
        {
            if (options.Secrets == SecretPolicy.Drop)
                return Dropped(DropReasons.Secret, language);
            text = SecretScanner.Redact(text, secrets);
        }
        var fingerprint = deduplicator.Fingerprint(text);
        var blocks = CodeBlockSplitter.Split(text, language);
        var modality = LanguageDetector.IsProse(language) ? Modality.Text : Modality.Code;
        var tokens = tokenizer?.Encode(text, modality, blocks).Ids;
        return new CurationOutcome(new CuratedDocument(text, language, file.RelativePath, license ?? "unknown", quality, blocks, tokens, file.Length), null, language, fingerprint);
    }

    private static byte[] ReadHead(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[256];
        return head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
    }

    private static CurationOutcome Dropped(string reason, SourceLanguage language = SourceLanguage.Unknown) => new(null, reason, language);

    private static bool TryDecode(byte[] bytes, out string text)
    {
        var body = bytes.AsSpan();
        if (body.StartsWith("\uFEFF"u8))
            body = body[3..];
        try
        {
            text = StrictUtf8.GetString(body);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
