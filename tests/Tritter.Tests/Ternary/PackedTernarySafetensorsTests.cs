using Tritter.Core.Checkpoints;
using Tritter.Core.Ternary;
using Tritter.Tests.Checkpoints;
using Tritter.Tests.Support;

namespace Tritter.Tests.Ternary;

/// <summary>Packed ternary weights stored in safetensors as U8 with their packing in the metadata.</summary>
public sealed class PackedTernarySafetensorsTests
{
    [TestCase(TernaryScheme.Reference)]
    [TestCase(TernaryScheme.Paper)]
    public void Packed_weights_round_trip(TernaryScheme scheme)
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        const int rows = 13, columns = 150;
        var w = TestRandom.Floats(random, rows * columns);
        var matrix = scheme == TernaryScheme.Reference
            ? PackedTernaryMatrix.QuantizeReference(w, rows, columns, TestRandom.Floats(random, rows))
            : PackedTernaryMatrix.QuantizePaper(w, rows, columns);
        var writer = new SafetensorsWriter();
        PackedTernarySafetensors.Add(writer, "layers.0.mlp.up_proj", matrix);
        var path = dir.File("packed.safetensors");
        writer.Write(path);

        using var file = SafetensorsFile.Open(path);
        var weight = file.Get("layers.0.mlp.up_proj.weight");
        Assert.That(weight.DType, Is.EqualTo(SafetensorsDType.U8));
        Assert.That(weight.Shape, Is.EqualTo(new long[] { rows, 192 / 4 }));
        var back = PackedTernarySafetensors.Read(file, "layers.0.mlp.up_proj");
        Assert.That(back.Scheme, Is.EqualTo(scheme));
        Assert.That(back.Columns, Is.EqualTo(columns));
        Assert.That(back.Words, Is.EqualTo(matrix.Words));
        Assert.That(back.Scales, Is.EqualTo(matrix.Scales));
    }

    [Test]
    public void Golden_words_are_stored_as_little_endian_bytes()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        PackedTernarySafetensors.Add(writer, "g", PackedTernaryMatrix.FromValues(TernaryPackingTests.GoldenValues, 2, 20, TernaryScheme.Paper, [1f]));
        var path = dir.File("g.safetensors");
        writer.Write(path);
        using var file = SafetensorsFile.Open(path);
        var bytes = new byte[32];
        file.ReadBytes("g.weight", bytes);
        Assert.That(Convert.ToHexString(bytes[..5]), Is.EqualTo("49A5104286"));
        Assert.That(Convert.ToHexString(bytes[16..21]), Is.EqualTo("0055AA2401"));
    }

    [TestCase("{\"format\":\"other\"}", "packing is not")]
    [TestCase("not json", "malformed")]
    [TestCase("{\"format\":\"tritter-ternary-2bit-v1\",\"column_alignment\":64,\"columns\":65,\"scheme\":\"paper\"}", "expected U8 [rows, 32] for 65 columns")]
    [TestCase("{\"format\":\"tritter-ternary-2bit-v1\",\"column_alignment\":64,\"columns\":20,\"scheme\":\"x\"}", "neither")]
    [TestCase("{\"format\":\"tritter-ternary-2bit-v1\",\"column_alignment\":32,\"columns\":20,\"scheme\":\"paper\"}", "column_alignment")]
    public void Bad_packing_descriptions_are_rejected(string description, string expected)
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        PackedTernarySafetensors.Add(writer, "g", PackedTernaryMatrix.FromValues(TernaryPackingTests.GoldenValues, 2, 20, TernaryScheme.Paper, [1f]));
        writer.Metadata[PackedTernarySafetensors.MetadataKey("g.weight")] = description;
        var path = dir.File("bad.safetensors");
        writer.Write(path);
        using var file = SafetensorsFile.Open(path);
        Assert.That(() => PackedTernarySafetensors.Read(file, "g"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains(path).And.Message.Contains(expected));
    }
}
