namespace Tritter.Native.Cuda;

/// <summary>Page-locked host memory, which asynchronous copies need to overlap with compute.</summary>
public sealed unsafe class PinnedHostMemory : IDisposable
{
    private void* _pointer;

    private PinnedHostMemory(void* pointer, long bytes)
    {
        _pointer = pointer;
        Bytes = bytes;
    }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Allocates <paramref name="bytes"/> of pinned memory in the current context.</summary>
    public static PinnedHostMemory Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        var result = CuDriver.cuMemAllocHost_v2(out var pointer, (nuint)bytes);
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException("cuMemAllocHost_v2", result, $"{bytes} bytes");
        return new PinnedHostMemory(pointer, bytes);
    }

    /// <summary>
    /// The address kernels use for this memory: with unified addressing (every 64-bit platform the driver supports),
    /// pinned host memory is mapped into the device's address space at its host address.
    /// </summary>
    public DevicePointer DeviceAddress
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return new DevicePointer((ulong)_pointer);
        }
    }

    /// <summary>The memory as a span of <typeparamref name="T"/>.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        return new Span<T>(_pointer, checked((int)(Bytes / sizeof(T))));
    }

    /// <summary><paramref name="length"/> bytes from <paramref name="offset"/> on (an allocation may exceed a span's reach).</summary>
    public Span<byte> Slice(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        if (offset < 0 || length < 0 || offset + length > Bytes)
            throw new ArgumentOutOfRangeException(nameof(length), $"{length} bytes at {offset} do not fit the pinned allocation of {Bytes} bytes");
        return new Span<byte>((byte*)_pointer + offset, length);
    }

    /// <summary>Starts copying the first <paramref name="bytes"/> to <paramref name="destination"/> on <paramref name="stream"/>.</summary>
    public void CopyToAsync(DeviceMemory destination, long bytes, CudaStream stream)
    {
        if (bytes > Bytes || bytes > destination.Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes));
        CuCheck.Call(CuDriver.cuMemcpyHtoDAsync_v2(destination.Pointer.Address, _pointer, (nuint)bytes, stream.Handle));
    }

    /// <summary>
    /// Starts copying <paramref name="bytes"/> from <paramref name="sourceOffset"/> on to <paramref name="destination"/>
    /// on <paramref name="stream"/>; the caller guarantees the destination holds them.
    /// </summary>
    public void CopyToAsync(long sourceOffset, DevicePointer destination, long bytes, CudaStream stream)
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        if (sourceOffset < 0 || bytes < 0 || sourceOffset + bytes > Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"{bytes} bytes at {sourceOffset} do not fit the pinned allocation of {Bytes} bytes");
        CuCheck.Call(CuDriver.cuMemcpyHtoDAsync_v2(destination.Address, (byte*)_pointer + sourceOffset, (nuint)bytes, stream.Handle));
    }

    /// <summary>Starts copying the first <paramref name="bytes"/> of <paramref name="source"/> here on <paramref name="stream"/>.</summary>
    public void CopyFromAsync(DeviceMemory source, long bytes, CudaStream stream)
    {
        if (bytes > Bytes || bytes > source.Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes));
        CuCheck.Call(CuDriver.cuMemcpyDtoHAsync_v2(_pointer, source.Pointer.Address, (nuint)bytes, stream.Handle));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_pointer == null)
            return;
        CuDriver.cuMemFreeHost(_pointer);
        _pointer = null;
    }
}
