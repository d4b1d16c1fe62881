namespace Tritter.Native.Cuda;

/// <summary>An address in device memory (<c>CUdeviceptr</c>).</summary>
public readonly record struct DevicePointer(ulong Address)
{
    /// <summary>
    /// Copies <paramref name="source"/> to this address in order on <paramref name="stream"/> and waits for the stream;
    /// the caller guarantees it fits. Not the synchronous <c>cuMemcpyHtoD</c>: from pageable memory it returns once the
    /// bytes are staged, before they land, and kernels on a non-blocking stream are not ordered after it, so they could
    /// read the old contents of the tail.
    /// </summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source, CudaStream stream) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        fixed (T* p = source)
            CuCheck.Call(CuDriver.cuMemcpyHtoDAsync_v2(Address, p, (nuint)(source.Length * sizeof(T)), stream.Handle));
        stream.Synchronize();
    }

    /// <summary>
    /// Copies from this address into <paramref name="destination"/> in order on <paramref name="stream"/> (after the
    /// work queued there) and waits; the caller guarantees it fits.
    /// </summary>
    public unsafe void CopyTo<T>(Span<T> destination, CudaStream stream) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        fixed (T* p = destination)
            CuCheck.Call(CuDriver.cuMemcpyDtoHAsync_v2(p, Address, (nuint)(destination.Length * sizeof(T)), stream.Handle));
        stream.Synchronize();
    }

    /// <summary>Queues on <paramref name="stream"/> setting <paramref name="count"/> 32-bit words here to <paramref name="value"/>.</summary>
    public void FillAsync(uint value, long count, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CuCheck.Call(CuDriver.cuMemsetD32Async(Address, value, (nuint)count, stream.Handle));
    }

    /// <summary>The address <paramref name="bytes"/> further on.</summary>
    public DevicePointer Offset(long bytes) => new(Address + (ulong)bytes);

    /// <inheritdoc />
    public override string ToString() => $"0x{Address:x}";
}
