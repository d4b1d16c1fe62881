using System.Text;
using Tritter.Core.Checkpoints;
using Tritter.Tests.Support;

namespace Tritter.Tests.Checkpoints;

/// <summary>
/// Broken and hostile safetensors files: each must fail with an <see cref="InvalidDataException"/> that names the file and
/// the problem, never with an out-of-memory, overflow or index exception.
/// </summary>
public sealed class SafetensorsHostileInputTests
{
    private const string F32x2 = "\"dtype\":\"F32\",\"shape\":[2]";

    // (case name, header JSON, data length, expected words in the message)
    private static readonly object[] Headers =
    [
        new object[] { "not JSON", "{\"a\":", 0, "not valid UTF-8 JSON" },
        new object[] { "root is an array", "[1,2]", 0, "Array, not an object" },
        new object[] { "tensor is a string", "{\"a\":\"x\"}", 0, "\"a\" is a JSON String" },
        new object[] { "dtype is a number", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype is a JSON Number" },
        new object[] { "unknown dtype", "{\"a\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype \"F128\"" },
        new object[] { "shape is a string", "{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8, "shape is a JSON String" },
        new object[] { "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "not a non-negative" },
        new object[] { "fractional dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "not a non-negative" },
        new object[] { "dimension past 2^64", "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8, "not a non-negative" },
        new object[] { "numel overflows", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "overflows" },
        new object[] { "three offsets", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8,8]}}", 8, "3 entries, not 2" },
        new object[] { "offsets backwards", "{\"a\":{" + F32x2 + ",\"data_offsets\":[8,0]}}", 8, "end before they begin" },
        new object[] { "size mismatch", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,12]}}", 12, "needs 8 bytes" },
        new object[] { "missing field", "{\"a\":{" + F32x2 + "}}", 0, "lacks data_offsets" },
        new object[] { "unknown field", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8],\"x\":1}}", 8, "unexpected or repeated field \"x\"" },
        new object[] { "repeated field", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8],\"dtype\":\"F32\"}}", 8, "unexpected or repeated field \"dtype\"" },
        new object[] { "duplicate tensor", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"a\":{" + F32x2 + ",\"data_offsets\":[8,16]}}", 16, "names \"a\" twice" },
        new object[] { "overlap", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + F32x2 + ",\"data_offsets\":[4,12]}}", 12, "overlaps" },
        new object[] { "gap", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + F32x2 + ",\"data_offsets\":[12,20]}}", 20, "gap of 4 bytes" },
        new object[] { "not from 0", "{\"a\":{" + F32x2 + ",\"data_offsets\":[8,16]}}", 16, "gap of 8 bytes" },
        new object[] { "offsets past the data", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 4, "cover 8 bytes of data but the file holds 4" },
        new object[] { "trailing bytes", "{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 9, "cover 8 bytes of data but the file holds 9" },
        new object[] { "metadata is an array", "{\"__metadata__\":[1]}", 0, "__metadata__ is a JSON Array" },
        new object[] { "metadata value not a string", "{\"__metadata__\":{\"step\":3}}", 0, "is a JSON Number, not a string" },
        new object[] { "deep nesting", new string('[', 5000) + new string(']', 5000), 0, "not valid UTF-8 JSON" },
    ];

    [TestCaseSource(nameof(Headers))]
    public void Bad_header_is_rejected_with_its_reason(string caseName, string header, int dataLength, string expected)
    {
        using var dir = new TempDirectory();
        var path = SafetensorsFiles.Assemble(dir, header, new byte[dataLength]);
        AssertRejected(path, expected, caseName);
    }

    [TestCase(0)]
    [TestCase(5)]
    [TestCase(7)]
    public void File_shorter_than_the_length_prefix_is_rejected(int length)
    {
        using var dir = new TempDirectory();
        AssertRejected(SafetensorsFiles.Bytes(dir, new byte[length]), "too short", $"{length} bytes");
    }

    [TestCase(ulong.MaxValue, "exceeds the limit")]
    [TestCase(1UL << 40, "exceeds the limit")]
    [TestCase(100_000_008UL, "exceeds the limit")]
    [TestCase(64UL, "runs past the end")]
    public void Header_length_beyond_the_limit_or_the_file_is_rejected_before_allocating(ulong declared, string expected)
    {
        using var dir = new TempDirectory();
        AssertRejected(SafetensorsFiles.Raw(dir, Encoding.UTF8.GetBytes("{}"), [], declared), expected, $"declared {declared}");
    }

    [Test]
    public void Truncated_data_is_rejected()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        writer.AddFloat32("a", [4], new float[] { 1, 2, 3, 4 });
        var path = dir.File("full.safetensors");
        writer.Write(path);
        var bytes = File.ReadAllBytes(path);
        AssertRejected(SafetensorsFiles.Bytes(dir, bytes[..^3]), "cover 16 bytes of data but the file holds 13", "truncated");
    }

    [Test]
    public void Invalid_utf8_in_the_header_is_rejected()
    {
        using var dir = new TempDirectory();
        var header = Encoding.UTF8.GetBytes("{\"a\xff\":{}}");
        header[3] = 0xFF;
        AssertRejected(SafetensorsFiles.Raw(dir, header, []), "not valid UTF-8 JSON", "bad UTF-8");
    }

    [Test]
    public void Random_corruption_is_either_read_or_rejected_as_invalid_data()
    {
        var random = TestRandom.Create();
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.AddFloat32("a.weight", [3, 5], TestRandom.Floats(random, 15));
        writer.Add("b", SafetensorsDType.I64, [2], new byte[16]);
        var path = dir.File("valid.safetensors");
        writer.Write(path);
        var valid = File.ReadAllBytes(path);
        for (var trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])valid.Clone();
            // Flip bytes mostly in the length prefix and header, where parsing happens; sometimes truncate.
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(Math.Min(bytes.Length, 8 + 160))] = (byte)random.Next(256);
            if (random.Next(4) == 0)
                bytes = bytes[..random.Next(bytes.Length)];
            var corrupt = SafetensorsFiles.Bytes(dir, bytes);
            try
            {
                using var file = SafetensorsFile.Open(corrupt);
                foreach (var tensor in file.Tensors)
                    file.ReadBytes(tensor.Name, new byte[tensor.ByteLength]);
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.Contain(corrupt), $"trial {trial}");
            }
            File.Delete(corrupt);
        }
    }

    private static void AssertRejected(string path, string expected, string caseName)
    {
        Assert.That(() => SafetensorsFile.Open(path).Dispose(),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains(path).And.Message.Contains(expected), caseName);
    }
}
