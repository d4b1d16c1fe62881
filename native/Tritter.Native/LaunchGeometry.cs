namespace Tritter.Native.Cuda;

/// <summary>Three launch dimensions.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <inheritdoc />
    public override string ToString() => $"({X}, {Y}, {Z})";
}

/// <summary>Grid, block and dynamic shared memory of one launch.</summary>
public readonly record struct LaunchGeometry(Dim3 Grid, Dim3 Block, uint SharedMemoryBytes = 0)
{
    /// <inheritdoc />
    public override string ToString() => $"grid {Grid}, block {Block}, {SharedMemoryBytes} B shared";
}

/// <summary>One kernel argument, held as the 8 bytes the driver copies from.</summary>
public readonly record struct KernelArgument(ulong Bits)
{
    /// <summary>A device pointer.</summary>
    public static implicit operator KernelArgument(DevicePointer pointer) => new(pointer.Address);

    /// <summary>A 32-bit signed integer.</summary>
    public static implicit operator KernelArgument(int value) => new((uint)value);

    /// <summary>A 64-bit signed integer.</summary>
    public static implicit operator KernelArgument(long value) => new((ulong)value);

    /// <summary>A 32-bit float.</summary>
    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));

    /// <summary>Named alternative to the conversions.</summary>
    public static KernelArgument FromInt32(int value) => value;
}
