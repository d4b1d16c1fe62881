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

    /// <summary>Positions per pipeline stage of <c>kv_int4_decode_*</c>; split boundaries are multiples of it.</summary>
    public const int KvDecodeTile = 64;

    /// <summary>One warp per (token, KV head, K or V) row of <c>kv_int4_write_*</c>, 8 warps per block.</summary>
    public static LaunchGeometry KvWrite(int tokens, int kvHeads)
    {
        const int block = 256;
        var threads = 2L * tokens * kvHeads * 32;
        return new LaunchGeometry(new Dim3((uint)((threads + block - 1) / block)), new Dim3(block));
    }

    /// <summary>
    /// Flash-decoding split of <c>kv_int4_decode_*</c>: grid (kvHeads, splits), 4 warps per 4 query heads. The sequence
    /// is cut into splits (multiples of the tile) so that about four blocks per SM exist (two are resident at the
    /// kernel's ~195 registers, so the tail wave is short), and a short sequence still gets one tile per split.
    /// </summary>
    public static (LaunchGeometry Geometry, int SplitSize, int Splits) KvDecode(int kvHeads, int group, int length, CudaDeviceInfo device)
    {
        const int blocksPerSm = 4;
        var wantedSplits = Math.Max(1, (device.MultiprocessorCount * blocksPerSm + kvHeads - 1) / kvHeads);
        var splitSize = (length + wantedSplits - 1) / wantedSplits;
        splitSize = (splitSize + KvDecodeTile - 1) / KvDecodeTile * KvDecodeTile;
        var splits = (length + splitSize - 1) / splitSize;
        var threads = 128 * (group == 8 ? 2 : 1);
        return (new LaunchGeometry(new Dim3((uint)kvHeads, (uint)splits), new Dim3((uint)threads)), splitSize, splits);
    }

    /// <summary>One block of headDim threads per query head for <c>kv_int4_combine</c>.</summary>
    public static LaunchGeometry KvCombine(int numHeads, int headDim) => new(new Dim3((uint)numHeads), new Dim3((uint)headDim));
}
