using Tritter.Core.Backends;
using Tritter.Core.Tensors;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>A tensor in device memory.</summary>
public sealed class CudaTensor : Tensor
{
    private readonly DeviceMemory _memory;
    private readonly MemoryMeter _meter;
    private bool _disposed;

    internal CudaTensor(DType type, TensorShape shape, MemoryMeter meter) : base(type, shape)
    {
        _memory = DeviceMemory.Allocate(Math.Max(Bytes, 1));
        _meter = meter;
        _meter.Allocated(Bytes);
    }

    /// <summary>The device allocation.</summary>
    public DeviceMemory Memory => _memory;

    /// <summary>Start of the data, for kernel arguments.</summary>
    public DevicePointer Pointer => _memory.Pointer;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing || _disposed)
            return;
        _disposed = true;
        _memory.Dispose();
        _meter.Freed(Bytes);
    }
}
