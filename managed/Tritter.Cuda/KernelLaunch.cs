using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>Launch geometry for every kernel family, computed in this one place.</summary>
public static class KernelLaunch
{
    /// <summary>Threads per block of the element-wise kernels: 8 warps hides latency and keeps blocks small enough to fill every SM.</summary>
    public const int ElementwiseBlock = 256;

    /// <summary>Elements each thread handles per loop step in the vectorised element-wise kernels (one float4).</summary>
    public const int ElementwiseVector = 4;

    /// <summary>
    /// Element-wise kernels loop grid-stride, so the grid only has to fill the device: enough blocks for a few waves per SM,
    /// and no more than the work needs.
    /// </summary>
    public static LaunchGeometry Elementwise(long count, CudaDeviceInfo device)
    {
        const int wavesPerSm = 8;
        var perBlock = (long)ElementwiseBlock * ElementwiseVector;
        var needed = Math.Max(1, (count + perBlock - 1) / perBlock);
        var blocks = Math.Min(needed, (long)device.MultiprocessorCount * wavesPerSm);
        return new LaunchGeometry(new Dim3((uint)blocks), new Dim3(ElementwiseBlock));
    }
}
