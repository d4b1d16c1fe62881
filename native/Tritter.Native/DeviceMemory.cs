namespace Tritter.Native.Cuda;

/// <summary>One allocation of device memory, freed on dispose.</summary>
public sealed unsafe class DeviceMemory : IDisposable
{
    private DeviceMemory(DevicePointer pointer, long bytes)
    {
        Pointer = pointer;
        Bytes = bytes;
    }

    /// <summary>Start of the allocation.</summary>
    public DevicePointer Pointer { get; private set; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Allocates <paramref name="bytes"/> in the current context.</summary>
    public static DeviceMemory Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        var result = CuDriver.cuMemAlloc_v2(out var address, (nuint)bytes);
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException("cuMemAlloc_v2", result, $"{bytes} bytes");
        return new DeviceMemory(new DevicePointer(address), bytes);
    }

    /// <summary>Copies <paramref name="source"/> to the start of this allocation, in order on <paramref name="stream"/>, and waits.</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source, CudaStream stream) where T : unmanaged
    {
        CheckFits<T>(source.Length);
        Pointer.CopyFrom(source, stream);
    }

    /// <summary>Copies the start of this allocation into <paramref name="destination"/>, in order on <paramref name="stream"/>, and waits.</summary>
    public void CopyTo<T>(Span<T> destination, CudaStream stream) where T : unmanaged
    {
        CheckFits<T>(destination.Length);
        Pointer.CopyTo(destination, stream);
    }

    /// <summary>Copies the start of this allocation into <paramref name="destination"/>, in order on <paramref name="stream"/>.</summary>
    public void CopyToAsync(DeviceMemory destination, long bytes, CudaStream stream)
    {
        if (bytes > Bytes || bytes > destination.Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"{bytes} bytes do not fit allocations of {Bytes} and {destination.Bytes}");
        CuCheck.Call(CuDriver.cuMemcpyDtoDAsync_v2(destination.Pointer.Address, Pointer.Address, (nuint)bytes, stream.Handle));
    }

    /// <summary>Sets every byte to <paramref name="value"/>, in order on <paramref name="stream"/>.</summary>
    public void FillBytesAsync(byte value, CudaStream stream) =>
        CuCheck.Call(CuDriver.cuMemsetD8Async(Pointer.Address, value, (nuint)Bytes, stream.Handle));

    /// <inheritdoc />
    public void Dispose()
    {
        if (Pointer.Address == 0)
            return;
        CuDriver.cuMemFree_v2(Pointer.Address);
        Pointer = default;
    }

    private void CheckFits<T>(int count) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(Pointer.Address == 0, this);
        if ((long)count * sizeof(T) > Bytes)
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} x {sizeof(T)} bytes exceed the allocation of {Bytes} bytes");
    }
}
