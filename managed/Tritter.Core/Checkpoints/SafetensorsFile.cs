using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// A safetensors file opened for reading. Opening reads and validates only the header (its size checked against the
/// file's length before anything is allocated); tensor data is read on demand with positioned reads, so memory stays
/// bounded by what the caller asks for.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsFile(string path, SafeFileHandle handle, long dataStart, List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The tensors in data order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Opens and validates <paramref name="path"/>. A file that breaks the format throws <see cref="InvalidDataException"/>
    /// naming the file and the problem.
    /// </summary>
    public static SafetensorsFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
                throw SafetensorsHeader.Invalid(path, $"file is {fileLength} bytes, too short for the 8-byte header length");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, path);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafetensorsHeader.MaxBytes)
                throw SafetensorsHeader.Invalid(path, $"header length {headerLength} exceeds the limit of {SafetensorsHeader.MaxBytes} bytes");
            if ((long)headerLength > fileLength - 8)
                throw SafetensorsHeader.Invalid(path, $"header length {headerLength} runs past the end of the {fileLength}-byte file (truncated?)");
            var json = new byte[headerLength];
            ReadExactly(handle, json, 8, path);
            var dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = SafetensorsHeader.Parse(json, fileLength - dataStart, path);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>; <see cref="KeyNotFoundException"/> naming the file when absent.</summary>
    public SafetensorsTensorInfo Get(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path} has no tensor \"{name}\"");

    /// <summary>Copies the raw little-endian bytes of <paramref name="name"/> into <paramref name="destination"/>, which must fit them exactly.</summary>
    public void ReadBytes(string name, Span<byte> destination)
    {
        var info = Get(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"{Path}: tensor \"{name}\" holds {info.ByteLength} bytes, the destination {destination.Length}", nameof(destination));
        ReadExactly(_handle, destination, _dataStart + info.Begin, Path);
    }

    /// <summary>Copies float32 tensor <paramref name="name"/> into <paramref name="destination"/>, which must fit it exactly.</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        RequireDType(name, SafetensorsDType.F32);
        ReadBytes(name, MemoryMarshal.AsBytes(destination));
        if (!BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<float, int>(destination);
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    /// <summary>Reads float32 tensor <paramref name="name"/> into a new array.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = RequireDType(name, SafetensorsDType.F32);
        if (info.ElementCount > Array.MaxLength)
            throw new InvalidOperationException($"{Path}: tensor \"{name}\" has {info.ElementCount} elements, more than an array holds");
        var values = new float[info.ElementCount];
        ReadFloat32(name, values);
        return values;
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private SafetensorsTensorInfo RequireDType(string name, SafetensorsDType dtype)
    {
        var info = Get(name);
        if (info.DType != dtype)
            throw new InvalidDataException($"{Path}: tensor \"{name}\" is {info.DType.HeaderName()}, expected {dtype.HeaderName()}");
        return info;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(handle, destination, offset);
            if (read == 0)
                throw SafetensorsHeader.Invalid(path, $"file ended at byte {offset} while reading (truncated while open?)");
            destination = destination[read..];
            offset += read;
        }
    }
}
