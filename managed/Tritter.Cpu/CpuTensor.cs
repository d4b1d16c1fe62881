using System.Runtime.InteropServices;
using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Cpu;

/// <summary>A tensor in 64-byte-aligned native memory, so that every SIMD width loads aligned rows, or a view into one.</summary>
public sealed unsafe class CpuTensor : Tensor
{
    private const nuint Alignment = 64;
    private readonly MemoryMeter? _meter;
    private readonly bool _owner = true;
    private void* _data;

    /// <summary>Allocates zeroed memory for <paramref name="shape"/> elements of <paramref name="type"/>, counted by <paramref name="meter"/>.</summary>
    public CpuTensor(DType type, TensorShape shape, MemoryMeter? meter = null) : base(type, shape)
    {
        _data = NativeMemory.AlignedAlloc((nuint)Math.Max(Bytes, 1), Alignment);
        NativeMemory.Clear(_data, (nuint)Bytes);
        _meter = meter;
        _meter?.Allocated(Bytes);
    }

    private CpuTensor(CpuTensor parent, long byteOffset, DType type, TensorShape shape) : base(type, shape)
    {
        ObjectDisposedException.ThrowIf(parent._data == null, parent);
        _data = (byte*)parent._data + byteOffset;
        _owner = false;
        GC.SuppressFinalize(this);
    }

    /// <summary>A view of part of this tensor's memory (see <see cref="Core.Backends.ITensorStore.View"/>).</summary>
    public CpuTensor View(long elementOffset, TensorShape shape)
    {
        TensorChecks.RequireView(this, elementOffset, shape);
        return new CpuTensor(this, elementOffset * Type.SizeOf(), Type, shape);
    }

    /// <summary>A view of this tensor's bytes as another dtype (see <see cref="Core.Backends.ITensorStore.Reinterpret"/>).</summary>
    public CpuTensor Reinterpret(long byteOffset, DType type, TensorShape shape)
    {
        TensorChecks.RequireReinterpret(this, byteOffset, type, shape);
        return new CpuTensor(this, byteOffset, type, shape);
    }

    /// <summary>Finalizer: frees the native memory of an undisposed tensor.</summary>
    ~CpuTensor() => Dispose(false);

    /// <summary>The elements as <typeparamref name="T"/>; the element size must match the dtype.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if (sizeof(T) != Type.SizeOf())
            throw new InvalidOperationException($"{typeof(T).Name} does not match {this}");
        return new Span<T>(_data, checked((int)ElementCount));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_data == null)
            return;
        if (!_owner)
        {
            _data = null;
            return;
        }
        NativeMemory.AlignedFree(_data);
        _data = null;
        _meter?.Freed(Bytes);
    }
}
