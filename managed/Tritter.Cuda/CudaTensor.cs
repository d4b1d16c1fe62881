using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>A tensor in device memory: an allocation of its own, or a view into another tensor's.</summary>
public sealed class CudaTensor : Tensor
{
    private readonly DeviceMemory? _memory;
    private readonly MemoryMeter? _meter;
    private bool _disposed;

    internal CudaTensor(DType type, TensorShape shape, MemoryMeter meter) : base(type, shape)
    {
        _memory = DeviceMemory.Allocate(Math.Max(Bytes, 1));
        Pointer = _memory.Pointer;
        _meter = meter;
        _meter.Allocated(Bytes);
    }

    private CudaTensor(CudaTensor parent, long byteOffset, DType type, TensorShape shape) : base(type, shape) =>
        Pointer = parent.Pointer.Offset(byteOffset);

    /// <summary>The device allocation of a tensor that owns one.</summary>
    public DeviceMemory Memory => _memory ?? throw new InvalidOperationException($"{this} is a view: it owns no allocation");

    /// <summary>Start of the data, for kernel arguments.</summary>
    public DevicePointer Pointer { get; }

    /// <summary>A view of part of this tensor's memory (see <see cref="ITensorStore.View"/>).</summary>
    public CudaTensor View(long elementOffset, TensorShape shape)
    {
        TensorChecks.RequireView(this, elementOffset, shape);
        return new CudaTensor(this, elementOffset * Type.SizeOf(), Type, shape);
    }

    /// <summary>A view of this tensor's bytes as another dtype (see <see cref="ITensorStore.Reinterpret"/>).</summary>
    public CudaTensor Reinterpret(long byteOffset, DType type, TensorShape shape)
    {
        TensorChecks.RequireReinterpret(this, byteOffset, type, shape);
        return new CudaTensor(this, byteOffset, type, shape);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing || _disposed || _memory is null)
            return;
        _disposed = true;
        _memory.Dispose();
        _meter!.Freed(Bytes);
    }
}
