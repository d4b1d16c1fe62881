using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Tritter.Core.Checkpoints;
using Tritter.Tests.Support;

namespace Tritter.Tests.Checkpoints;

/// <summary>The safetensors writer and reader against each other and against hand-assembled files.</summary>
public sealed class SafetensorsRoundTripTests
{
    [Test]
    public void Written_tensors_read_back_bit_exact()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        var weights = TestRandom.Floats(random, 7 * 13, 2f);
        var ids = new long[] { random.NextInt64(), -random.NextInt64(), 3 };
        var bytes = new byte[37];
        random.NextBytes(bytes);
        var half = new byte[2 * 5];
        random.NextBytes(half);
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Metadata["note"] = "ünïcode ✓";
        writer.AddFloat32("layers.0.attention.q_proj.weight", [7, 13], weights);
        writer.Add("ids", SafetensorsDType.I64, [3], MemoryMarshal.AsBytes(ids.AsSpan()).ToArray());
        writer.Add("packed", SafetensorsDType.U8, [37], bytes);
        writer.Add("half", SafetensorsDType.BF16, [5], half);
        writer.Add("scalar", SafetensorsDType.F32, [], BitConverter.GetBytes(1.5f));
        writer.Add("empty", SafetensorsDType.I32, [0, 4], Array.Empty<byte>());
        var path = dir.File("t.safetensors");
        writer.Write(path);

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata, Is.EquivalentTo(writer.Metadata));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "layers.0.attention.q_proj.weight", "ids", "packed", "half", "scalar", "empty" }));
        Assert.That(file.ReadFloat32("layers.0.attention.q_proj.weight"), Is.EqualTo(weights));
        Assert.That(file.Get("layers.0.attention.q_proj.weight").Shape, Is.EqualTo(new long[] { 7, 13 }));
        var idsBack = new long[3];
        file.ReadBytes("ids", MemoryMarshal.AsBytes(idsBack.AsSpan()));
        Assert.That(idsBack, Is.EqualTo(ids));
        var bytesBack = new byte[37];
        file.ReadBytes("packed", bytesBack);
        Assert.That(bytesBack, Is.EqualTo(bytes));
        var halfBack = new byte[10];
        file.ReadBytes("half", halfBack);
        Assert.That(halfBack, Is.EqualTo(half));
        Assert.That(file.ReadFloat32("scalar"), Is.EqualTo(new[] { 1.5f }));
        Assert.That(file.Get("empty").ByteLength, Is.Zero);
    }

    [Test]
    public void Header_is_padded_with_spaces_to_a_multiple_of_8()
    {
        using var dir = new TempDirectory();
        for (var nameLength = 1; nameLength <= 8; nameLength++)
        {
            var writer = new SafetensorsWriter();
            writer.Add(new string('w', nameLength), SafetensorsDType.U8, [1], new byte[] { 7 });
            var path = dir.File($"p{nameLength}.safetensors");
            writer.Write(path);
            var raw = File.ReadAllBytes(path);
            var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(raw);
            Assert.That(headerLength % 8, Is.Zero, $"name length {nameLength}");
            Assert.That(raw.Length, Is.EqualTo(8 + headerLength + 1));
            var header = Encoding.UTF8.GetString(raw, 8, headerLength);
            Assert.That(header.TrimEnd(' '), Does.EndWith("}"));
            Assert.That(header.Length - header.TrimEnd(' ').Length, Is.LessThan(8));
        }
    }

    [Test]
    public void Reads_a_hand_assembled_file_with_unsorted_header_entries()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        var a = TestRandom.Floats(random, 3);
        var b = TestRandom.Floats(random, 2);
        var data = MemoryMarshal.AsBytes(a.AsSpan()).ToArray().Concat(MemoryMarshal.AsBytes(b.AsSpan()).ToArray()).ToArray();
        // "b" is listed first in the header but lies second in the data: offsets, not header order, place tensors.
        var path = SafetensorsFiles.Assemble(dir, """{"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", data);
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.ReadFloat32("a"), Is.EqualTo(a));
        Assert.That(file.ReadFloat32("b"), Is.EqualTo(b));
        Assert.That(file.Metadata["k"], Is.EqualTo("v"));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Writer_rejects_inconsistent_tensors()
    {
        var writer = new SafetensorsWriter();
        Assert.That(() => writer.AddFloat32("x", [2, 3], new float[5]), Throws.ArgumentException.With.Message.Contains("needs 24 bytes"));
        writer.AddFloat32("x", [2], new float[2]);
        Assert.That(() => writer.AddFloat32("x", [2], new float[2]), Throws.ArgumentException.With.Message.Contains("already added"));
        Assert.That(() => writer.AddFloat32("__metadata__", [1], new float[1]), Throws.ArgumentException.With.Message.Contains("reserved"));
    }

    [Test]
    public void Reader_reports_wrong_dtype_and_missing_tensors_by_name()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        writer.Add("u", SafetensorsDType.U8, [2], new byte[] { 1, 2 });
        var path = dir.File("w.safetensors");
        writer.Write(path);
        using var file = SafetensorsFile.Open(path);
        Assert.That(() => file.ReadFloat32("u"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("\"u\" is U8"));
        Assert.That(() => file.Get("v"), Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("no tensor \"v\""));
    }
}
