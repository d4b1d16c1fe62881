using System.Buffers.Binary;
using System.Collections.Immutable;
using CommunityToolkit.HighPerformance;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// Collects tensors and metadata, then writes them as one safetensors file, atomically. Tensors keep the order they were
/// added in; the data is referenced, not copied, until <see cref="Write"/>.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(SafetensorsTensorInfo Info, ReadOnlyMemory<byte> Data)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private long _dataLength;

    /// <summary>String-to-string entries written as the header's <c>__metadata__</c>.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The tensors added so far, in data order.</summary>
    public ImmutableArray<SafetensorsTensorInfo> Tensors => [.. _tensors.Select(t => t.Info)];

    /// <summary>Adds a tensor of raw little-endian bytes; their count must equal the shape's element count times the dtype's size.</summary>
    public void Add(string name, SafetensorsDType dtype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafetensorsHeader.MetadataKey)
            throw new ArgumentException($"\"{name}\" is reserved for metadata", nameof(name));
        long bytes = dtype.SizeOf();
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            bytes = checked(bytes * d);
        }
        if (bytes != data.Length)
            throw new ArgumentException($"tensor \"{name}\": shape [{string.Join(", ", shape.ToArray())}] of {dtype.HeaderName()} needs {bytes} bytes, got {data.Length}", nameof(data));
        if (!_names.Add(name))
            throw new ArgumentException($"tensor \"{name}\" was already added", nameof(name));
        _tensors.Add((new SafetensorsTensorInfo(name, dtype, [.. shape], _dataLength, _dataLength + bytes), data));
        _dataLength += bytes;
    }

    /// <summary>Adds a float32 tensor.</summary>
    public void AddFloat32(string name, ReadOnlySpan<long> shape, ReadOnlyMemory<float> data) =>
        Add(name, SafetensorsDType.F32, shape, data.Cast<float, byte>());

    /// <summary>Writes everything added to <paramref name="path"/>: temporary file, flush to disk, rename.</summary>
    public void Write(string path)
    {
        var header = SafetensorsHeader.Serialize(_tensors.Select(t => t.Info), Metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var (info, data) in _tensors)
                WriteLittleEndian(stream, info.DType.SizeOf(), data.Span);
        });
    }

    private static void WriteLittleEndian(Stream stream, int elementSize, ReadOnlySpan<byte> data)
    {
        if (BitConverter.IsLittleEndian || elementSize == 1)
        {
            stream.Write(data);
            return;
        }
        var swapped = data.ToArray();
        for (var i = 0; i < swapped.Length; i += elementSize)
            swapped.AsSpan(i, elementSize).Reverse();
        stream.Write(swapped);
    }
}
