namespace Tritter.Native.Cuda;

/// <summary>An address in device memory (<c>CUdeviceptr</c>).</summary>
public readonly record struct DevicePointer(ulong Address)
{
    /// <summary>Copies <paramref name="source"/> to this address and waits; the caller guarantees it fits.</summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        fixed (T* p = source)
            CuCheck.Call(CuDriver.cuMemcpyHtoD_v2(Address, p, (nuint)(source.Length * sizeof(T))));
    }

    /// <summary>Copies from this address into <paramref name="destination"/> and waits; the caller guarantees it fits.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        fixed (T* p = destination)
            CuCheck.Call(CuDriver.cuMemcpyDtoH_v2(p, Address, (nuint)(destination.Length * sizeof(T))));
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
