using System.Text;

namespace Tritter.Native.Cuda;

/// <summary>What the driver reports about one device.</summary>
/// <param name="Ordinal">Device index as the driver counts them.</param>
/// <param name="Name">Marketing name, e.g. "NVIDIA H100 80GB HBM3".</param>
/// <param name="ComputeCapability">Major and minor version, e.g. (9, 0).</param>
/// <param name="MultiprocessorCount">Number of SMs.</param>
/// <param name="TotalMemoryBytes">Device memory in bytes.</param>
/// <param name="L2CacheBytes">L2 cache in bytes.</param>
/// <param name="MaxSharedMemoryPerBlockOptIn">Shared memory a block can opt into, in bytes.</param>
public sealed record CudaDeviceInfo(
    int Ordinal,
    string Name,
    (int Major, int Minor) ComputeCapability,
    int MultiprocessorCount,
    long TotalMemoryBytes,
    long L2CacheBytes,
    int MaxSharedMemoryPerBlockOptIn)
{
    /// <summary>Compute capability as "sm_90".</summary>
    public string SmName => $"sm_{ComputeCapability.Major}{ComputeCapability.Minor}";

    /// <summary>Whether kernels can be launched with <see cref="LaunchOrder.Programmatic"/> (compute capability 9.0 and up).</summary>
    public bool SupportsProgrammaticLaunch => ComputeCapability.Major >= 9;

    /// <summary>Reads the attributes of device <paramref name="ordinal"/>; the driver must be initialised.</summary>
    public static unsafe CudaDeviceInfo Query(int ordinal)
    {
        CuCheck.Call(CuDriver.cuDeviceGet(out var device, ordinal));
        Span<byte> name = stackalloc byte[256];
        fixed (byte* p = name)
            CuCheck.Call(CuDriver.cuDeviceGetName(p, name.Length, device));
        var length = name.IndexOf((byte)0);
        CuCheck.Call(CuDriver.cuDeviceTotalMem_v2(out var total, device));
        return new CudaDeviceInfo(
            ordinal,
            Encoding.UTF8.GetString(name[..(length < 0 ? name.Length : length)]),
            (Attribute(device, CuDeviceAttribute.ComputeCapabilityMajor), Attribute(device, CuDeviceAttribute.ComputeCapabilityMinor)),
            Attribute(device, CuDeviceAttribute.MultiprocessorCount),
            (long)total,
            Attribute(device, CuDeviceAttribute.L2CacheSize),
            Attribute(device, CuDeviceAttribute.MaxSharedMemoryPerBlockOptin));
    }

    private static int Attribute(int device, CuDeviceAttribute attribute)
    {
        CuCheck.Call(CuDriver.cuDeviceGetAttribute(out var value, attribute, device));
        return value;
    }
}
