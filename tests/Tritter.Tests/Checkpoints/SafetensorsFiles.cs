using System.Buffers.Binary;
using System.Text;

namespace Tritter.Tests.Checkpoints;

/// <summary>Builds safetensors files byte by byte, independently of the writer, including broken ones.</summary>
internal static class SafetensorsFiles
{
    /// <summary>Writes 8-byte length, <paramref name="header"/> as UTF-8, then <paramref name="data"/>; returns the path.</summary>
    public static string Assemble(TempDirectory dir, string header, byte[] data) => Raw(dir, Encoding.UTF8.GetBytes(header), data);

    /// <summary>Like <see cref="Assemble"/> with raw header bytes.</summary>
    public static string Raw(TempDirectory dir, byte[] header, byte[] data, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return Bytes(dir, bytes);
    }

    /// <summary>Writes exactly <paramref name="bytes"/> to a new file; returns the path.</summary>
    public static string Bytes(TempDirectory dir, byte[] bytes)
    {
        var path = dir.File(Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
