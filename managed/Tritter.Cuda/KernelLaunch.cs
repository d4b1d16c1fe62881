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

    /// <summary>Warps per block of the ternary GEMV kernels (<c>TERNARY_WARPS_PER_BLOCK</c> in the kernel).</summary>
    public const int TernaryWarpsPerBlock = 8;

    /// <summary>Activation rows one ternary GEMV pass handles; larger batches loop.</summary>
    public const int TernaryMaxRows = 16;

    /// <summary>One warp per output feature.</summary>
    public static LaunchGeometry TernaryGemv(int outputs) =>
        new(new Dim3((uint)((outputs + TernaryWarpsPerBlock - 1) / TernaryWarpsPerBlock)), new Dim3(TernaryWarpsPerBlock * 32));

    /// <summary>The instantiated row count (1, 2, 4, 8, 16) that holds <paramref name="rows"/> activation rows.</summary>
    public static int TernaryBatch(int rows) => rows switch
    {
        <= 0 or > TernaryMaxRows => throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1..{TernaryMaxRows} rows per pass"),
        1 => 1,
        2 => 2,
        <= 4 => 4,
        <= 8 => 8,
        _ => 16,
    };

    /// <summary>One block of 256 threads per row for the per-row reductions (absmax, sums) over K.</summary>
    public static LaunchGeometry RowReduction(int rows) => new(new Dim3((uint)rows), new Dim3(256));
}
