using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Core.Ternary;

namespace Tritter.Inference.Decoding;

/// <summary>
/// Tensors of several dtypes packed one after another into one block of host bytes, each at an offset aligned to
/// <see cref="Alignment"/>: a layer's weights (codes, scales, biases, norms) move to the device with one copy, and each
/// tensor is then a view (<see cref="WeightSlot.Bind"/>) into wherever the block lands.
/// </summary>
internal sealed class WeightBlock
{
    /// <summary>Alignment of every tensor and of the block's length (the widest load a kernel makes, with room to spare).</summary>
    public const int Alignment = 256;

    private readonly List<(WeightSlot Slot, int Rows, int Columns, TernaryScheme Scheme)> _packedTernary = [];
    private byte[] _bytes = new byte[Alignment];
    private int _length;

    /// <summary>The block's bytes, padded to a multiple of <see cref="Alignment"/>.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, Length);

    /// <summary>Length of the block, a multiple of <see cref="Alignment"/>.</summary>
    public int Length => (_length + Alignment - 1) / Alignment * Alignment;

    /// <summary>Appends <paramref name="data"/> as a tensor of <paramref name="shape"/>; returns where it is.</summary>
    public WeightSlot Add<T>(ReadOnlySpan<T> data, DType type, TensorShape shape) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data);
        if (bytes.Length != shape.ElementCount * type.SizeOf())
            throw new ArgumentException($"{bytes.Length} bytes do not make a {type} tensor {shape}", nameof(data));
        var offset = Length;
        var end = checked(offset + bytes.Length);
        if (end > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(end + Alignment, checked(_bytes.Length * 2)));
        bytes.CopyTo(_bytes.AsSpan(offset));
        _length = end;
        return new WeightSlot(offset, type, shape);
    }

    /// <summary>
    /// Appends packed ternary weights (canonical layout, <paramref name="rows"/> x <c>WordsPerRow(columns)</c> words) as
    /// a UInt8 tensor <c>[rows, PaddedColumns(columns) / 4]</c>, to be rewritten by <see cref="Arrange"/> for the products
    /// of <paramref name="scheme"/>.
    /// </summary>
    public WeightSlot AddPackedTernary(ReadOnlySpan<uint> words, int rows, int columns, TernaryScheme scheme)
    {
        var slot = Add<uint>(words, DType.UInt8, [rows, TernaryPacking.PaddedColumns(columns) / 4]);
        _packedTernary.Add((slot, rows, columns, scheme));
        return slot;
    }

    /// <summary>
    /// Rewrites every packed ternary tensor into the layout <paramref name="backend"/>'s
    /// <see cref="IPackedTernaryOps.ArrangedTernaryMatmul"/> reads; call once, after the last <c>Add</c> and before the
    /// bytes go anywhere.
    /// </summary>
    public void Arrange(IPackedTernaryOps backend)
    {
        foreach (var (slot, rows, columns, scheme) in _packedTernary)
            backend.ArrangePackedTernary(MemoryMarshal.Cast<byte, uint>(_bytes.AsSpan((int)slot.ByteOffset, (int)slot.Shape.ElementCount)), rows, columns, scheme);
        _packedTernary.Clear();
    }

    /// <summary>A copy of the block in a <c>UInt8</c> tensor of <paramref name="store"/>, which the caller owns.</summary>
    public Tensor Upload(ITensorStore store)
    {
        var tensor = store.Allocate(DType.UInt8, [Length]);
        try
        {
            store.Upload(tensor, Bytes);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }
}

/// <summary>Where one tensor lies in a <see cref="WeightBlock"/>.</summary>
internal readonly record struct WeightSlot(long ByteOffset, DType Type, TensorShape Shape)
{
    /// <summary>The tensor, as a view of <paramref name="block"/> (the block's bytes on <paramref name="store"/>).</summary>
    public Tensor Bind(ITensorStore store, Tensor block) => store.Reinterpret(block, ByteOffset, Type, Shape);
}
