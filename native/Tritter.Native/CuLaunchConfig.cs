using System.Runtime.InteropServices;

namespace Tritter.Native.Cuda;

/// <summary><c>CUlaunchConfig</c>, the launch description <c>cuLaunchKernelEx</c> takes (56 bytes on 64-bit hosts).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CuLaunchConfig
{
    public uint GridX, GridY, GridZ;
    public uint BlockX, BlockY, BlockZ;
    public uint SharedMemoryBytes;
    public IntPtr Stream;
    public CuLaunchAttribute* Attributes;
    public uint AttributeCount;
}

/// <summary>
/// <c>CUlaunchAttribute</c>: a 4-byte id, 4 bytes of padding, then a 64-byte value union (8-byte aligned, as it holds
/// pointers). Only the attributes Tritter sets are mapped, all of which hold one <c>int</c> at the union's start.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct CuLaunchAttribute
{
    [FieldOffset(0)] public CuLaunchAttributeId Id;
    [FieldOffset(8)] public int Value;
}

/// <summary>Launch attribute ids (<c>CUlaunchAttributeID</c>) that Tritter sets.</summary>
#pragma warning disable CA1008 // The values are the driver's.
internal enum CuLaunchAttributeId
{
    /// <summary>Value 1 lets the kernel start before the previous kernel on the stream completes.</summary>
    ProgrammaticStreamSerialization = 6,
}
#pragma warning restore CA1008
