using Tritter.Core.Backends;
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

    /// <summary>Warps per block of the float32 batch kernels (<c>TERNARY_WARPS_PER_BLOCK</c> in the kernel).</summary>
    public const int TernaryWarpsPerBlock = 8;

    /// <summary>Activation rows one int8 batch or float32 direct GEMV pass handles; larger batches loop.</summary>
    public const int TernaryMaxRows = 16;

    /// <summary>Activation rows one staged pass handles at most (the staged kernels are instantiated up to 8).</summary>
    public const int TernaryMaxStagedRows = 8;

    /// <summary>
    /// The plan for one pass of a float32 batch GEMV: whether the activations are staged in shared memory (when
    /// <paramref name="rows"/> rows of <paramref name="activationBytes"/> bytes fit the device's opt-in maximum, halved so
    /// that two blocks share an SM), how many rows the pass takes, which instantiated row count runs it, and the launch.
    /// A staged pass's grid is provisional (two blocks per SM); <see cref="PersistentGrid"/> fixes it once the kernel's
    /// occupancy is known.
    /// </summary>
    public static TernaryPass TernaryGemv(int outputs, int rows, long activationBytes, CudaDeviceInfo device)
    {
        var budget = device.MaxSharedMemoryPerBlockOptIn / 2 - 1024; // the staged kernels' static shared memory
        var fitting = (int)Math.Min(TernaryMaxStagedRows, budget / activationBytes);
        var warpsNeeded = (outputs + TernaryWarpsPerBlock - 1) / TernaryWarpsPerBlock;
        if (fitting >= 1)
        {
            var take = Math.Min(rows, fitting);
            var instantiated = TernaryBatch(take);
            if (instantiated > fitting)
                take = instantiated = instantiated / 2;
            // Persistent blocks: two per SM, each staging the activations once and looping over output features.
            var blocks = Math.Min(warpsNeeded, 2 * device.MultiprocessorCount);
            return new TernaryPass(true, take, instantiated,
                new LaunchGeometry(new Dim3((uint)blocks), new Dim3(TernaryWarpsPerBlock * 32), (uint)(instantiated * activationBytes)));
        }
        var direct = Math.Min(rows, TernaryMaxRows);
        return new TernaryPass(false, direct, TernaryBatch(direct),
            new LaunchGeometry(new Dim3((uint)warpsNeeded), new Dim3(TernaryWarpsPerBlock * 32)));
    }

    /// <summary>Warps per block of the batch-1 and int8 batch GEMV kernels (<c>TERNARY_ROW1_WARPS</c> in the kernel).</summary>
    public const int TernaryRow1Warps = 8;

    /// <summary>Weight steps (4 chunks of 64 weights, one per lane of a row) a lane of the GEMV kernels has in flight.</summary>
    public const int TernaryRow1Steps = 4;

    /// <summary>Rows per warp group of the batch-1 kernels: 8 for the int8 (dp4a) kernel, 16 (one mma A tile) for float32.</summary>
    public static int TernaryRow1Rows(bool int8) => int8 ? 8 : 16;

    /// <summary>Rows per warp group of the int8 batch kernels (<c>ternary_gemv_w2a8_rows_m*</c>).</summary>
    public const int TernaryBatchGroupRows = 8;

    /// <summary>
    /// Dynamic shared memory of a batch-1 kernel for <paramref name="inputs"/> inputs: the int8 activations padded to the
    /// 64-weight chunk (1 byte each), or the three bfloat16 parts of the float32 activations padded to the 256-weight
    /// step (6 bytes each).
    /// </summary>
    public static long TernaryRow1SharedBytes(int inputs, bool int8)
    {
        var chunks = (inputs + 63) / 64;
        var steps = (chunks + 3) / 4;
        return int8 ? chunks * 64L : steps * 256L * 6;
    }

    /// <summary>
    /// <c>ternary_gemv_*_row1</c>: the warps of a block form teams of <c>Parts</c> warps, a team splits the K of one
    /// group of rows; see <see cref="TernaryTeams"/>. Dynamic shared memory: the prepared activations.
    /// </summary>
    public static (LaunchGeometry Geometry, int Parts) TernaryRow1(int outputs, int inputs, bool int8, int residentPerSm, CudaDeviceInfo device) =>
        TernaryTeams(outputs, inputs, TernaryRow1Rows(int8), (uint)TernaryRow1SharedBytes(inputs, int8), residentPerSm, device);

    /// <summary>
    /// <c>ternary_gemv_w2a8_rows_m*</c>: the teams of <see cref="TernaryTeams"/> over groups of 8 rows, no dynamic shared
    /// memory (the prepared activations are read through L1).
    /// </summary>
    public static (LaunchGeometry Geometry, int Parts) TernaryInt8Batch(int outputs, int inputs, int residentPerSm, CudaDeviceInfo device) =>
        TernaryTeams(outputs, inputs, TernaryBatchGroupRows, 0, residentPerSm, device);

    /// <summary>
    /// The GEMV kernels' teams: parts, the fewest warps per team (a power of two up to the block's warps, at least 2
    /// where each part still has 2 rounds of loads) that put 12 warps per SM on groups, as the sweep of bench/results
    /// found best; never more than the steps a row has. Grid: persistent, at most <paramref name="residentPerSm"/> blocks
    /// per SM, no more than the teams the groups need.
    /// </summary>
    private static (LaunchGeometry Geometry, int Parts) TernaryTeams(int outputs, int inputs, int groupRows, uint sharedBytes, int residentPerSm,
        CudaDeviceInfo device)
    {
        var groups = (outputs + groupRows - 1) / groupRows;
        var steps = ((inputs + 63) / 64 + 3) / 4;
        var parts = steps >= 2 * 2 * TernaryRow1Steps ? 2 : 1;
        while (parts < TernaryRow1Warps && (long)groups * parts < 12L * device.MultiprocessorCount)
            parts *= 2;
        while (parts > 1 && parts > steps)
            parts /= 2;
        var teams = TernaryRow1Warps / parts;
        var blocks = Math.Max(1, Math.Min((groups + teams - 1) / teams, residentPerSm * device.MultiprocessorCount));
        return (new LaunchGeometry(new Dim3((uint)blocks), new Dim3(TernaryRow1Warps * 32), sharedBytes), parts);
    }

    /// <summary>
    /// A persistent kernel's grid: as many blocks as can be resident at once (<paramref name="residentPerSm"/> per SM,
    /// from the driver's occupancy calculator), never more than the work has, so every block starts at once and the
    /// weights stream with the most bytes in flight.
    /// </summary>
    public static LaunchGeometry PersistentGrid(LaunchGeometry provisional, int workBlocks, int residentPerSm, CudaDeviceInfo device) =>
        provisional with { Grid = new Dim3((uint)Math.Max(1, Math.Min(workBlocks, residentPerSm * device.MultiprocessorCount))) };

    /// <summary>
    /// Rows from which a ternary product (int8 or float32 activations) runs the int8 tensor-core GEMM instead of GEMV
    /// passes of up to 16 rows: the passes stream the weights again and again at a fraction of the bandwidth, the GEMM
    /// once plus a rewrite of their layout.
    /// </summary>
    public const int TernaryGemmMinRows = 32;

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
    /// <summary>One block of 256 threads per row, for row gathers and reductions over long rows (embedding, cross-entropy).</summary>
    public static LaunchGeometry BlockPerRow(int rows) => new(new Dim3((uint)rows), new Dim3(256));

    /// <summary><c>cross_entropy_f32</c>: a block of 1024 threads per SM (or per row, where there are fewer), looping over the rows.</summary>
    public static LaunchGeometry CrossEntropy(int rows, CudaDeviceInfo device) => new(new Dim3((uint)Math.Min(rows, device.MultiprocessorCount)), new Dim3(1024));

    /// <summary>
    /// Rows this wide or wider are normalised by a block each (<see cref="NormRowBlocks"/>), narrower ones by a warp each
    /// (<see cref="WarpPerRow"/>): chosen by width alone, so a row's bits do not depend on the rows beside it.
    /// </summary>
    public const int BlockNormMinWidth = 1024;

    /// <summary>
    /// A block per row for LayerNorm of rows of <see cref="BlockNormMinWidth"/> or more: a thread per four elements,
    /// 1024 at most, so that one row (a decode step's) has all its loads in flight at once.
    /// </summary>
    public static LaunchGeometry NormRowBlocks(int rows, int width) =>
        new(new Dim3((uint)rows), new Dim3((uint)Math.Min(1024, ((width + 3) / 4 + 31) / 32 * 32)));

    /// <summary>Rows per block of the warp-per-row kernels (LayerNorm, squared error).</summary>
    public const int WarpRowsPerBlock = 8;

    /// <summary>One warp per row, <see cref="WarpRowsPerBlock"/> rows per block: rows of a few thousand elements or fewer.</summary>
    public static LaunchGeometry WarpPerRow(int rows) =>
        new(new Dim3((uint)((rows + WarpRowsPerBlock - 1) / WarpRowsPerBlock)), new Dim3(WarpRowsPerBlock * 32));

    /// <summary>
    /// <c>embedding_backward_f32</c>: a block row per bucket of ids (about 32 tokens per bucket, at most 256 buckets: each
    /// block walks every id, so more buckets cost more walking than they gain in parallel row adds), and enough blocks
    /// along y for one column (a float4 when the width allows) per thread.
    /// </summary>
    public static LaunchGeometry EmbeddingScatter(int tokens, int width)
    {
        const int block = 256;
        var buckets = Math.Clamp((tokens + 31) / 32, 1, 256);
        var units = width % 4 == 0 ? width / 4 : width;
        return new LaunchGeometry(new Dim3((uint)buckets, (uint)((units + block - 1) / block)), new Dim3(block));
    }

    /// <summary>
    /// Column partial sums over rows (<c>layernorm_param_partials_f32</c>, <c>matmul_column_partials_f32</c>): a thread
    /// per column, blocks along y each summing a chunk of 32 rows, or more so that there are at most 1,024 chunks, which
    /// the sums over the chunks (<see cref="ColumnSums"/>) take 32 a lane. The chunking depends only on the shape, so the
    /// summation order, and the result, is the same on every device.
    /// </summary>
    public static (LaunchGeometry Geometry, int RowsPerChunk, int Chunks) ColumnPartials(int rows, int width)
    {
        const int maxChunks = 1024;
        var rowsPerChunk = Math.Max(32, (rows + maxChunks - 1) / maxChunks);
        var chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        return (new LaunchGeometry(new Dim3((uint)((width + 255) / 256), (uint)chunks), new Dim3(256)), rowsPerChunk, chunks);
    }

    /// <summary>
    /// The sums over <see cref="ColumnPartials"/>' chunks (<c>layernorm_param_sum_f32</c>, <c>matmul_column_sum_f32</c>):
    /// a warp per column, as a thread per column summing the chunks one after another was latency-bound (a norm of 128
    /// columns over 32,768 rows, a 1B step's q/k norms, took 31 us in 256 chunks on an H100).
    /// </summary>
    public static LaunchGeometry ColumnSums(int width) => WarpPerRow(width);

    /// <summary>Output tile of one <c>matmul_*</c> block (<c>MM_BM</c> = <c>MM_BN</c> in the kernel).</summary>
    public const int MatmulTile = 128;

    /// <summary>Threads per <c>matmul_*</c> block (<c>MM_THREADS</c>): 4 warps of 64 x 64 outputs.</summary>
    public const int MatmulThreads = 128;

    /// <summary>
    /// Shared memory of a <c>matmul_*</c> block (<c>MM_STAGES</c>, <c>MM_BK</c>): 2 pipeline stages of a 128 x 32 tile of
    /// each operand, stored with K contiguous as [128][32 + 8] floats, otherwise as [32][128 + 4] when A's K is contiguous
    /// (k paired) or [32][128 + 8].
    /// </summary>
    public static uint MatmulSharedBytes(bool aKContiguous, bool bKContiguous)
    {
        const int stages = 2, depth = 32;
        int Floats(bool kContiguous) => kContiguous ? MatmulTile * (depth + 8) : depth * (MatmulTile + (aKContiguous ? 4 : 8));
        return (uint)(stages * (Floats(aKContiguous) + Floats(bKContiguous)) * sizeof(float));
    }

    /// <summary>A <c>matmul_*</c> launch for an <paramref name="m"/> x <paramref name="n"/> output: one block per 128 x 128 tile.</summary>
    public static LaunchGeometry Matmul(int m, int n, uint sharedBytes) =>
        new(new Dim3((uint)((n + MatmulTile - 1) / MatmulTile), (uint)((m + MatmulTile - 1) / MatmulTile)), new Dim3(MatmulThreads), sharedBytes);

    /// <summary>Output rows of one <c>matmul_*_bf16</c> block (<c>MB_BM</c> in the kernel).</summary>
    public const int MatmulBf16TileM = 128;

    /// <summary>Output columns of one <c>matmul_*_bf16</c> block (<c>MB_BN</c>).</summary>
    public const int MatmulBf16TileN = 128;

    /// <summary>Threads per <c>matmul_*_bf16</c> block (<c>MB_THREADS</c>): a warp per 64 x 64 outputs.</summary>
    public const int MatmulBf16Threads = MatmulBf16TileM / 64 * (MatmulBf16TileN / 64) * 32;

    /// <summary>Depth of a <c>matmul_*_bf16</c> block's k tile (<c>MB_BK</c>).</summary>
    public const int MatmulBf16Depth = 64;

    /// <summary>Stages of a <c>matmul_*_bf16</c> block's cp.async ring (<c>MB_STAGES</c>).</summary>
    public const int MatmulBf16Stages = 3;

    /// <summary>Shared memory of a <c>matmul_*_bf16</c> block: its stages of one k tile of each operand, bf16.</summary>
    public const uint MatmulBf16SharedBytes = MatmulBf16Stages * (MatmulBf16TileM + MatmulBf16TileN) * MatmulBf16Depth * 2;

    /// <summary>
    /// A <c>matmul_*_bf16</c> launch for an <paramref name="m"/> x <paramref name="n"/> output: one block per tile, times
    /// <paramref name="splits"/> ranges of k over the grid's z (<see cref="MatmulBf16KSplits"/>).
    /// </summary>
    public static LaunchGeometry MatmulBf16(int m, int n, int splits = 1) =>
        new(new Dim3((uint)((n + MatmulBf16TileN - 1) / MatmulBf16TileN), (uint)((m + MatmulBf16TileM - 1) / MatmulBf16TileM), (uint)splits),
            new Dim3(MatmulBf16Threads), MatmulBf16SharedBytes);

    /// <summary>Output rows of one <c>matmul_*_bf16_wgmma</c> block (<c>WG_BM</c>): two warpgroups of 64.</summary>
    public const int MatmulWgmmaTileM = 128;

    /// <summary>Output columns of one <c>matmul_*_bf16_wgmma</c> block (<c>WG_BN</c>): wgmma's widest n.</summary>
    public const int MatmulWgmmaTileN = 256;

    /// <summary>Threads per <c>matmul_*_bf16_wgmma</c> block (<c>WG_THREADS</c>): 128 per warpgroup.</summary>
    public const int MatmulWgmmaThreads = MatmulWgmmaTileM / 64 * 128;

    /// <summary>
    /// Shared memory of a <c>matmul_*_bf16_wgmma</c> or <c>ternary_gemm_i8_wgmma</c> block (<c>WG_SHARED_BYTES</c>):
    /// 4 stages of a 128-byte-deep k tile of each operand (64 bf16, 128 int8), and 1 KiB to align the ring to the 1,024
    /// bytes of its swizzle pattern.
    /// </summary>
    public const uint MatmulWgmmaSharedBytes = 4 * (MatmulWgmmaTileM + MatmulWgmmaTileN) * 128 + 1024;

    /// <summary>A <c>matmul_*_bf16_wgmma</c> or <c>ternary_gemm_i8_wgmma</c> launch for an <paramref name="m"/> x <paramref name="n"/> output: one block per tile.</summary>
    public static LaunchGeometry MatmulWgmma(int m, int n) =>
        new(new Dim3((uint)((n + MatmulWgmmaTileN - 1) / MatmulWgmmaTileN), (uint)((m + MatmulWgmmaTileM - 1) / MatmulWgmmaTileM)),
            new Dim3(MatmulWgmmaThreads), MatmulWgmmaSharedBytes);

    /// <summary>
    /// How a bf16 product of an <paramref name="m"/> x <paramref name="n"/> output over <paramref name="k"/> splits its k
    /// range (<c>matmul_input_gradient_split_bf16</c>): not at all where its tiles already give every SM two blocks (what
    /// fits one), else into as many ranges as keep the blocks within two an SM, each at least 16 k tiles long so that
    /// summing the partial outputs stays small beside the product. Returns the ranges and the k tiles in each.
    /// </summary>
    public static (int Splits, int SplitTiles) MatmulBf16KSplits(int m, int n, int k, int multiprocessors)
    {
        const int minimumTiles = 16;
        var blocks = (long)((m + MatmulBf16TileM - 1) / MatmulBf16TileM) * ((n + MatmulBf16TileN - 1) / MatmulBf16TileN);
        var tiles = (k + MatmulBf16Depth - 1) / MatmulBf16Depth;
        var splits = (int)Math.Min(2L * multiprocessors / Math.Max(1, blocks), tiles / minimumTiles);
        if (splits < 2)
            return (1, tiles);
        var perSplit = (tiles + splits - 1) / splits;
        return ((tiles + perSplit - 1) / perSplit, perSplit);
    }

    /// <summary>The row length of a bf16 operand copy: <paramref name="columns"/> rounded up to whole 16-byte chunks (8 elements).</summary>
    public static int Bf16Leading(int columns) => (columns + 7) / 8 * 8;

    /// <summary><c>matmul_to_bf16</c>: a thread per pair of a row's <paramref name="ld"/> elements, rows over the grid's y (strided past its limit).</summary>
    public static LaunchGeometry ToBf16(int rows, int ld)
    {
        const int block = 256;
        return new LaunchGeometry(new Dim3((uint)((ld / 2 + block - 1) / block), (uint)Math.Min(rows, 65535)), new Dim3(block));
    }

    /// <summary>Positions per block step of <c>kv_int4_decode_*</c> (4 warps x 16); split boundaries are multiples of it.</summary>
    public const int KvDecodeTile = 64;

    /// <summary>One warp per (token, KV head, K or V) row of <c>kv_int4_write_*</c>, 8 warps per block.</summary>
    public static LaunchGeometry KvWrite(int tokens, int kvHeads)
    {
        const int block = 256;
        var threads = 2L * tokens * kvHeads * 32;
        return new LaunchGeometry(new Dim3((uint)((threads + block - 1) / block)), new Dim3(block));
    }

    /// <summary>
    /// Flash-decoding split of <c>kv_int4_decode_*</c>: grid (kvHeads, splits), 4 warps per block whatever the group. The
    /// sequence is cut into splits (multiples of the tile) so that the grid is one wave of three blocks per SM (the
    /// kernel's register cap, <c>kMinBlocks</c>), so no SM idles in a tail, but no split shorter than
    /// <see cref="KvDecodeMinSplit"/>: at a 2K context 50 splits of one tile each spent more on their prologues and on
    /// the serial merge of 50 partials than on reading the cache. <paramref name="everySplitUpTo"/> (a recorded decode
    /// step: the cache's capacity) launches every split any length up to it may use, the kernel deriving the split size
    /// from the length it reads, as here; the splits past the length do no work. A prefill launch has
    /// <paramref name="tokens"/> along z, the last attending over <paramref name="length"/> positions, and fewer splits
    /// as the tokens fill the wave.
    /// </summary>
    public static (LaunchGeometry Geometry, int SplitSize, int Splits) KvDecode(int kvHeads, int length, CudaDeviceInfo device,
        int everySplitUpTo = 0, int tokens = 1)
    {
        const int blocksPerSm = 3;
        var lanes = kvHeads * tokens;
        var span = Math.Max(length, everySplitUpTo);
        var wantedSplits = Math.Max(1, Math.Min((device.MultiprocessorCount * blocksPerSm + lanes - 1) / lanes,
            (span + KvDecodeMinSplit - 1) / KvDecodeMinSplit));
        var splitSize = (length + wantedSplits - 1) / wantedSplits;
        splitSize = (splitSize + KvDecodeTile - 1) / KvDecodeTile * KvDecodeTile;
        var splits = everySplitUpTo > 0 ? wantedSplits : (length + splitSize - 1) / splitSize;
        return (new LaunchGeometry(new Dim3((uint)kvHeads, (uint)splits, (uint)tokens), new Dim3(128)), splitSize, splits);
    }

    /// <summary>Fewest positions a decode split is given (two tiles): shorter splits cost more than they share out.</summary>
    public const int KvDecodeMinSplit = 2 * KvDecodeTile;

    /// <summary>Query and key rows per tile of the training attention kernels (<c>kTile</c> in <c>kernels/attention.cu</c>).</summary>
    public const int AttentionTile = 64;

    /// <summary>Threads per block of the training attention kernels: 4 warps, each owning 16 rows of the block's tile.</summary>
    public const int AttentionThreads = 128;

    /// <summary>
    /// <c>attention_forward_*</c> and <c>attention_backward_q_*</c>: a block per (query tile, head, batch). Both keep a
    /// query-side tile set (the forward q, the backward q and dO) and stream k and v with their key rows' segment ids,
    /// then the query rows' segment ids; rows are <c>headDim + 4</c> floats (TF32) or <c>headDim + 8</c> bf16 elements
    /// (<see cref="AttentionStages"/> says how many stages).
    /// </summary>
    public static LaunchGeometry AttentionQueryTiles(AttentionGeometry shape, bool backward, bool bf16, int sharedLimit)
    {
        var tile = AttentionTileBytes(shape.HeadDim, bf16);
        var bytes = AttentionStages(stages => (backward ? 2 : 1) * tile + stages * (2 * tile + AttentionTile * 4) + AttentionTile * 4,
            twoStages: backward || bf16, sharedLimit);
        return new LaunchGeometry(new Dim3((uint)Tiles(shape.Sequence), (uint)shape.Heads, (uint)shape.Batch), new Dim3(AttentionThreads), (uint)bytes);
    }

    /// <summary>
    /// <c>attention_backward_kv_*</c>: a block per (key tile, kv head, batch). It keeps k and v and the key rows'
    /// segment ids and streams q and dO with, per query row, the log-sum-exp, D and segment id (as <see cref="AttentionQueryTiles"/>).
    /// </summary>
    public static LaunchGeometry AttentionKeyTiles(AttentionGeometry shape, bool bf16, int sharedLimit)
    {
        var tile = AttentionTileBytes(shape.HeadDim, bf16);
        var bytes = AttentionStages(stages => 2 * tile + stages * (2 * tile + 3 * AttentionTile * 4) + AttentionTile * 4, twoStages: true, sharedLimit);
        return new LaunchGeometry(new Dim3((uint)Tiles(shape.Sequence), (uint)shape.KvHeads, (uint)shape.Batch), new Dim3(AttentionThreads), (uint)bytes);
    }

    /// <summary>
    /// The bytes of an attention kernel's layout with two stages of streamed tiles (double-buffered) where
    /// <paramref name="twoStages"/> asks for them and they fit <paramref name="sharedLimit"/>, the device's shared memory
    /// per block, else with one; the kernel reads the stage count back from the launch's shared memory size. The TF32
    /// forward keeps one stage: its three tiles let two blocks share an SM, which hides the loads as well.
    /// </summary>
    private static int AttentionStages(Func<int, int> bytes, bool twoStages, int sharedLimit) =>
        twoStages && bytes(2) <= sharedLimit ? bytes(2) : bytes(1);

    // Bytes of one staged tile: rows padded to headDim + 4 floats or headDim + 8 bf16 (kernels/attention.cu's kStride).
    private static int AttentionTileBytes(int headDim, bool bf16) => AttentionTile * (bf16 ? (headDim + 8) * 2 : (headDim + 4) * 4);

    private static int Tiles(int sequence) => (sequence + AttentionTile - 1) / AttentionTile;

    /// <summary>Elements a block of <c>adamw_*</c> and <c>sum_squares_f32</c> takes of one tensor of their table (<c>kChunk</c>).</summary>
    public const int SlotChunk = 16384;

    /// <summary>The chunks of one tensor of <paramref name="count"/> elements in an <c>adamw.cu</c> table.</summary>
    public static long SlotChunks(long count) => (count + SlotChunk - 1) / SlotChunk;

    /// <summary><c>adamw_*</c> and <c>sum_squares_f32</c>: a block of 256 threads per chunk of the whole table.</summary>
    public static LaunchGeometry Slots(long chunks) => new(new Dim3(checked((uint)chunks)), new Dim3(256));

    /// <summary><c>sum_partials_f64</c>: one block of 1,024 threads.</summary>
    public static readonly LaunchGeometry SumPartials = new(new Dim3(1), new Dim3(1024));

    /// <summary>Elements per partial sum of <c>ternary_magnitude_partials_f32</c> (<c>kMeanChunk</c> in the kernel).</summary>
    public const int MagnitudeChunk = 4096;

    /// <summary>Partial sums of mean|W| over <paramref name="count"/> elements, one block each.</summary>
    public static int MagnitudeChunks(long count) => checked((int)((count + MagnitudeChunk - 1) / MagnitudeChunk));

    /// <summary>Weights per k tile of <c>ternary_gemm.cu</c> (<c>kTileK</c>); a row of its weight layout is 8 words per k tile.</summary>
    public const int TernaryGemmTileK = 128;

    /// <summary>K tiles of a ternary GEMM over <paramref name="columns"/> weights per row.</summary>
    public static int TernaryGemmTiles(int columns) => (columns + TernaryGemmTileK - 1) / TernaryGemmTileK;

    /// <summary>
    /// The block tiles <c>ternary_gemm.cu</c> instantiates: outputs per block (rows are always 128), threads, blocks
    /// resident per SM, and the rate of a full GPU relative to the best tile, fitted to a sweep of every tile over the
    /// 2048-token shapes on an H100 (bench/results/nvidia-h100-80gb-hbm3/ternary-gemm.md).
    /// </summary>
    private static readonly (int Outputs, int Threads, int PerSm, double Rate)[] TernaryGemmShapes =
    [
        (128, 128, 2, 1.00), (112, 128, 2, 0.93), (96, 128, 2, 0.86), (80, 128, 2, 0.92),
    ];

    /// <summary>Rows per block of every <c>ternary_gemm.cu</c> tile.</summary>
    public const int TernaryGemmRows = 128;

    /// <summary>Pipeline stages of <c>ternary_gemm.cu</c> (the <c>Stages</c> its kernels are instantiated with).</summary>
    public const int TernaryGemmStages = 4;

    /// <summary>
    /// The <c>ternary_gemm_RxN</c> kernel and launch for <paramref name="rows"/> x <paramref name="outputs"/>: the tile
    /// whose grid finishes first, counting whole waves of resident blocks (a 2048 x 2560 product in 128-wide tiles is
    /// 320 blocks, two waves of 264 of which the second is mostly idle; 80-wide tiles make 512 blocks, two full waves).
    /// Outputs along x, rows along y; shared memory: Stages x (128 x 128 activation bytes + outputs x 32 weight bytes).
    /// </summary>
    public static (string Kernel, LaunchGeometry Geometry) TernaryGemm(int rows, int outputs, CudaDeviceInfo device)
    {
        const int maxGridY = 65535;
        var rowTiles = (rows + TernaryGemmRows - 1) / TernaryGemmRows;
        if (rowTiles > maxGridY)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"at most {maxGridY * TernaryGemmRows} rows per ternary GEMM");
        var best = TernaryGemmShapes[0];
        var bestTime = double.MaxValue;
        foreach (var tile in TernaryGemmShapes)
        {
            var blocks = (long)rowTiles * ((outputs + tile.Outputs - 1) / tile.Outputs);
            var slots = (long)tile.PerSm * device.MultiprocessorCount;
            var time = (blocks + slots - 1) / slots * tile.Outputs * tile.PerSm / tile.Rate;
            if (time < bestTime)
                (best, bestTime) = (tile, time);
        }
        var shared = (uint)(TernaryGemmStages * (TernaryGemmRows * TernaryGemmTileK + best.Outputs * 32));
        return ($"ternary_gemm_{TernaryGemmRows}x{best.Outputs}",
            new LaunchGeometry(new Dim3((uint)((outputs + best.Outputs - 1) / best.Outputs), (uint)rowTiles), new Dim3((uint)best.Threads), shared));
    }

    /// <summary>Rows and columns per block of <c>ternary_packed_input_gradient_f32</c> (<c>kGradientTile</c> in the kernel).</summary>
    public const int PackedGradientTile = 64;

    /// <summary><c>ternary_packed_input_gradient_f32</c>: 256 threads per 64 x 64 tile of the input gradient, columns along x.</summary>
    public static LaunchGeometry PackedInputGradient(int rows, int columns)
    {
        const int maxGridY = 65535;
        var rowTiles = (rows + PackedGradientTile - 1) / PackedGradientTile;
        if (rowTiles > maxGridY)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"at most {maxGridY * PackedGradientTile} rows per packed input gradient");
        return new LaunchGeometry(new Dim3((uint)((columns + PackedGradientTile - 1) / PackedGradientTile), (uint)rowTiles), new Dim3(256));
    }
}

/// <summary>One pass of a float32 batch GEMV: see <see cref="KernelLaunch.TernaryGemv"/>.</summary>
/// <param name="Staged">Activations staged in shared memory (the fast path) or read through L1.</param>
/// <param name="Rows">Activation rows this pass consumes.</param>
/// <param name="Instantiated">The kernel's compile-time row count, at least <paramref name="Rows"/>.</param>
/// <param name="Geometry">Grid, block and dynamic shared memory.</param>
public readonly record struct TernaryPass(bool Staged, int Rows, int Instantiated, LaunchGeometry Geometry);
