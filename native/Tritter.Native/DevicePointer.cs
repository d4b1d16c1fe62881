namespace Tritter.Native.Cuda;

/// <summary>An address in device memory (<c>CUdeviceptr</c>).</summary>
public readonly record struct DevicePointer(ulong Address)
{
    /// <summary>The address <paramref name="bytes"/> further on.</summary>
    public DevicePointer Offset(long bytes) => new(Address + (ulong)bytes);

    /// <inheritdoc />
    public override string ToString() => $"0x{Address:x}";
}
