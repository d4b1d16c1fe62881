using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using CommunityToolkit.HighPerformance;
using Tritter.Core.Checkpoints;

namespace Tritter.Core.Ternary;

/// <summary>
/// Stores a <see cref="PackedTernaryMatrix"/> in safetensors: <c>&lt;prefix&gt;.weight</c> as <c>U8 [Rows, PaddedColumns / 4]</c>
/// (the packed words' little-endian bytes), <c>&lt;prefix&gt;.scale</c> as <c>F32 [Rows, 1]</c> (reference) or <c>[1]</c>
/// (paper), and a <c>__metadata__</c> entry <c>ternary:&lt;prefix&gt;.weight</c> describing the packing as JSON.
/// </summary>
public static class PackedTernarySafetensors
{
    /// <summary>The packing's name in the metadata; a reader refuses any other.</summary>
    public const string FormatName = "tritter-ternary-2bit-v1";

    /// <summary>The metadata key that describes the packed tensor <paramref name="weightName"/>.</summary>
    public static string MetadataKey(string weightName) => "ternary:" + weightName;

    /// <summary>Adds <paramref name="matrix"/> under <paramref name="prefix"/> to <paramref name="writer"/>.</summary>
    public static void Add(SafetensorsWriter writer, string prefix, PackedTernaryMatrix matrix)
    {
        var weightName = prefix + ".weight";
        writer.Add(weightName, SafetensorsDType.U8, [matrix.Rows, matrix.PaddedColumns / 4], matrix.Words.AsMemory().Cast<uint, byte>());
        long[] scaleShape = matrix.Scheme == TernaryScheme.Reference ? [matrix.Rows, 1] : [1];
        writer.AddFloat32(prefix + ".scale", scaleShape, matrix.Scales);
        writer.Metadata[MetadataKey(weightName)] = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["format"] = FormatName,
            ["codes"] = "2 bits per weight, 16 per little-endian uint32, low bits first; 00=0 01=+1 10=-1",
            ["column_alignment"] = TernaryPacking.ColumnAlignment,
            ["columns"] = matrix.Columns,
            ["scheme"] = matrix.Scheme.ToString().ToLowerInvariant(),
        });
    }

    /// <summary>Reads the packed matrix under <paramref name="prefix"/>; anything inconsistent is an <see cref="InvalidDataException"/>.</summary>
    public static PackedTernaryMatrix Read(SafetensorsFile file, string prefix)
    {
        var weightName = prefix + ".weight";
        var (columns, scheme) = ReadDescription(file, weightName);
        var weight = file.Get(weightName);
        var paddedBytes = TernaryPacking.PaddedColumns(columns) / 4;
        if (weight.DType != SafetensorsDType.U8 || weight.Shape.Length != 2 || weight.Shape[1] != paddedBytes || weight.Shape[0] is < 1 or > int.MaxValue)
            throw Invalid(file, weightName, $"is {weight.DType.HeaderName()} [{string.Join(", ", weight.Shape)}], expected U8 [rows, {paddedBytes}] for {columns} columns");
        var rows = (int)weight.Shape[0];
        var words = new uint[(long)rows * paddedBytes / 4];
        file.ReadBytes(weightName, MemoryMarshal.AsBytes(words.AsSpan()));
        if (!BitConverter.IsLittleEndian)
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(words, words);
        var scaleName = prefix + ".scale";
        var scaleCount = scheme == TernaryScheme.Reference ? rows : 1;
        if (file.Get(scaleName).ElementCount != scaleCount)
            throw Invalid(file, scaleName, $"has {file.Get(scaleName).ElementCount} elements, the {scheme} scheme needs {scaleCount}");
        var scales = file.ReadFloat32(scaleName);
        try
        {
            return new PackedTernaryMatrix(rows, columns, scheme, words, scales);
        }
        catch (InvalidDataException e)
        {
            throw Invalid(file, weightName, e.Message);
        }
    }

    private static (int Columns, TernaryScheme Scheme) ReadDescription(SafetensorsFile file, string weightName)
    {
        if (!file.Metadata.TryGetValue(MetadataKey(weightName), out var json))
            throw Invalid(file, weightName, $"has no packing description (metadata \"{MetadataKey(weightName)}\")");
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName)
                throw Invalid(file, weightName, $"packing is not {FormatName}: {json}");
            if (!root.TryGetProperty("column_alignment", out var alignment) || !alignment.TryGetInt32(out var a) || a != TernaryPacking.ColumnAlignment)
                throw Invalid(file, weightName, $"packing's column_alignment is not {TernaryPacking.ColumnAlignment}: {json}");
            if (!root.TryGetProperty("columns", out var columnsElement) || !columnsElement.TryGetInt32(out var columns) || columns < 1)
                throw Invalid(file, weightName, $"packing lacks a positive \"columns\": {json}");
            var scheme = root.TryGetProperty("scheme", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            return scheme switch
            {
                "reference" => (columns, TernaryScheme.Reference),
                "paper" => (columns, TernaryScheme.Paper),
                _ => throw Invalid(file, weightName, $"packing's scheme is neither \"reference\" nor \"paper\": {json}"),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Invalid(file, weightName, $"packing description is malformed ({e.Message})");
        }
    }

    private static InvalidDataException Invalid(SafetensorsFile file, string name, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{file.Path}: packed ternary tensor \"{name}\" {problem}"));
}
