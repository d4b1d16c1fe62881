using System.IO.Compression;
using System.Reflection;
using System.Text;

namespace Tritter.Text.Bpe;

/// <summary>
/// A tiktoken ranks file (one base64 token per line, by rank) as embedded in a Microsoft.ML.Tokenizers data
/// package. The library keeps each token's bytes to itself, and its string decoding is lossy for tokens that end
/// inside a UTF-8 sequence, so exact decoding reads the bytes from here.
/// </summary>
/// <param name="Contents">The decompressed file, which <c>TiktokenTokenizer.Create</c> reads.</param>
/// <param name="TokenBytes">Each token's bytes, by rank.</param>
internal sealed record TiktokenRanksFile(byte[] Contents, byte[][] TokenBytes)
{
    public static TiktokenRanksFile ReadEmbedded(string encodingName)
    {
        var assemblyName = encodingName switch
        {
            "cl100k_base" => "Microsoft.ML.Tokenizers.Data.Cl100kBase",
            "o200k_base" => "Microsoft.ML.Tokenizers.Data.O200kBase",
            _ => throw new ArgumentException($"unknown tiktoken encoding '{encodingName}'; expected cl100k_base or o200k_base", nameof(encodingName)),
        };
        var resourceName = encodingName + ".tiktoken.deflate";
        using var resource = Assembly.Load(assemblyName).GetManifestResourceStream(resourceName)
            ?? throw new InvalidDataException($"{assemblyName} has no resource {resourceName}");
        using var inflated = new MemoryStream();
        using (var deflate = new DeflateStream(resource, CompressionMode.Decompress))
            deflate.CopyTo(inflated);
        var contents = inflated.ToArray();
        return new TiktokenRanksFile(contents, ParseRanks(resourceName, contents));
    }

    // The packaged files start with "Capacity: N" and then list one base64 token per line in rank order, with or
    // without the rank after a space (the plain tiktoken format has it).
    private static byte[][] ParseRanks(string name, byte[] contents)
    {
        var tokens = new List<byte[]>();
        foreach (var line in Encoding.ASCII.GetString(contents).Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (tokens.Count == 0 && line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space >= 0 && (!int.TryParse(line.AsSpan(space + 1), out var rank) || rank != tokens.Count))
                throw new InvalidDataException($"{name}: token {tokens.Count} has rank '{line[(space + 1)..]}' (ranks must be contiguous)");
            tokens.Add(Convert.FromBase64String(space < 0 ? line : line[..space]));
        }
        return [.. tokens];
    }
}
