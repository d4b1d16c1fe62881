// Dense products of a linear layer on bf16 tensor cores (mma.sync m16n8k16, fp32 accumulation), and the float32 ->
// bf16 conversion that stages their operands. CPU twin: managed/Tritter.Cpu/Ops/Matmul.cs (float32; the GPU tests
// bound the difference). The TF32 kernels of matmul.cu compute the same three products from float32 operands.
//
// One kernel body, templated over where K runs in each operand, computes C[M, N] (+)= sum_k A(m, k) B(k, n):
//   forward  Y  = X W^T + b   A = X  (K contiguous),  B = W  (K contiguous),  bias added in the epilogue
//            (+ a residual R, loaded into the accumulators before the main loop: matmul_forward_residual_bf16)
//   dX       dX (+)= dY W     A = dY (K contiguous),  B = W  (N contiguous);  split over k where the output has too
//            few tiles to fill the device (matmul_input_gradient_split_bf16, then matmul_split_sum_f32)
//   dW       dW (+)= dY^T X   A = dY (M contiguous),  B = X  (N contiguous)
// Where C is added to (beta = 1), it is loaded into the accumulators before the main loop (matmul_store.cuh), where the
// loads overlap the operand pipeline.
// C is row-major float32 [M, N] in all three. Operands are bf16 copies whose rows are padded with zeros to a multiple
// of 8 elements (matmul_to_bf16), so every 16-byte chunk of a row is wholly inside or outside it: chunks past the
// matrix load as zeros (cp.async zero-fill), which for K adds nothing and for M or N feeds outputs never stored.
//
// Floor: 2 M N K flops at the bf16 mma.sync rate, ~650 TFLOP/s measured by peak.cu on an H100 (twice TF32's; wgmma's
// ~989 is not portable to SM_120). Memory is no limit: a 128 x 128 block tile reads 2 * 128 * 2 bytes per k for
// 2 * 128 * 128 flops (64 flops per byte). Achieved on an H100 (bench/results/nvidia-h100-80gb-hbm3/2026-12-07-bf16-gemm.md,
// 12 shapes at 2,048-4,096 tokens): forward 342, dX 346, dW 260 TFLOP/s on average, 53 / 53 / 40% of that peak and
// 0.3-0.5x cuBLAS's wgmma kernels (dW lowest: that sweep timed the accumulating dW, whose epilogue then read C back). Rounding each operand to bf16 (8
// significant bits, 7 stored; round to nearest) puts each product within ~2^-8 |a||b| of the float32 one; the fp32 sum
// adds its usual K 2^-24.
//
// Block tile MB_BM x MB_BN x MB_BK (default 128 x 128 x 64) of warps of 64 x 64 (4 warps by default), an
// MB_STAGES-deep cp.async ring (3 by default: 32 KiB stages, 96 KiB, two blocks to an H100 SM, one fits SM_120's
// 99 KiB). The defaults are the best of bench/anchors/matmul_bf16_sweep.py's variants that fit SM_120
// (bench/results/nvidia-h100-80gb-hbm3/2026-12-07-bf16-gemm.md); KernelLaunch.MatmulBf16* mirrors them. A 64 x 64
// warp tile holds 128 accumulators a thread, which caps an SM at about 8 such warps; what keeps their tensor cores fed
// is the pipelining: each k step's fragments are loaded while the previous step's mma run, and the barrier that hands
// over a stage comes before the last step's mma, not before the first. Fragments come from
// ldmatrix: plain where the tile holds K contiguous ([row][k]; chunk c of row r stored at c ^ ((r / 2) % 4) in 64-byte
// rows, c ^ (r % 8) in 128-byte rows), transposed (.trans) where it holds rows contiguous ([k][row]; chunk c of k
// stored at c ^ (k % 8)); each swizzle puts the 8 rows one ldmatrix phase reads in 8 different bank groups. Blocks run
// in groups of MB_GROUP_M tile rows so that the blocks resident at once share operand tiles in L2.
#include "matmul_store.cuh"
#include "bf16.cuh"

#ifndef MB_BM
#define MB_BM 128
#endif
#ifndef MB_BN
#define MB_BN 128
#endif
#ifndef MB_BK
#define MB_BK 64
#endif
#ifndef MB_STAGES
#define MB_STAGES 3
#endif
#ifndef MB_GROUP_M
#define MB_GROUP_M 8
#endif
#define MB_WARP 64
#define MB_WARPS_M (MB_BM / MB_WARP)
#define MB_THREADS (MB_WARPS_M * (MB_BN / MB_WARP) * 32)
#define MB_MIN_BLOCKS (MB_THREADS <= 128 ? 2 : 1)
#define MB_STEPS (MB_BK / 16)
#define MB_A_BYTES (MB_BM * MB_BK * 2)
#define MB_STAGE_BYTES ((MB_BM + MB_BN) * MB_BK * 2)

static_assert(MB_BK == 32 || MB_BK == 64, "a K-contiguous tile row is 64 or 128 bytes");
static_assert(MB_BM % MB_WARP == 0 && MB_BN % MB_WARP == 0, "whole warp tiles");

namespace {

// Byte offset of 16-byte chunk `chunk` of tile row `row`: a row of MB_BK k when KContiguous, else a row of the tile's
// `Rows` operand rows at one k.
template <bool KContiguous, int Rows>
__device__ __forceinline__ uint32_t chunk_offset(int row, int chunk)
{
    const int swizzle = MB_BK == 32 ? (row >> 1) & 3 : row & 7;
    return KContiguous ? row * (MB_BK * 2) + ((chunk ^ swizzle) << 4) : row * (Rows * 2) + ((chunk ^ (row & 7)) << 4);
}

// Copies one operand's tiles of rows [row0, row0 + Rows) and k [k0, k0 + MB_BK) into shared memory: element (row, k)
// at source[row * ld + k] (K contiguous) or source[k * ld + row]; `rows` and `depth` are the padded extents the chunks
// are checked against. A thread copies the same few chunks of every tile, `lines` tile lines apart, so it keeps one
// source pointer and the validity of its rows, not an address per chunk (which would cost the registers the
// accumulators need).
template <bool KContiguous, int Rows>
struct OperandCopy
{
    static constexpr int line_chunks = KContiguous ? MB_BK / 8 : Rows / 8;
    static constexpr int copies = Rows * MB_BK / 8 / MB_THREADS;
    static constexpr int lines = MB_THREADS / line_chunks;
    static_assert(Rows * MB_BK / 8 % MB_THREADS == 0 && MB_THREADS % line_chunks == 0, "every thread copies whole chunks of whole lines");

    const uint16_t* source;
    int ld, line, chunk, k, depth;
    unsigned valid_rows;  // bit i: copy i's operand row is inside the matrix

    __device__ __forceinline__ OperandCopy(const uint16_t* __restrict__ matrix, int ld_, int rows, int depth_, int row0)
        : ld(ld_), line(threadIdx.x / line_chunks), chunk(threadIdx.x % line_chunks), depth(depth_), valid_rows(0)
    {
        const int row = KContiguous ? row0 + line : row0 + chunk * 8;
        k = KContiguous ? chunk * 8 : line;
        source = matrix + (KContiguous ? (int64_t)row * ld + k : (int64_t)k * ld + row);
#pragma unroll
        for (int i = 0; i < copies; i++)
            valid_rows |= (KContiguous ? row + i * lines < rows : row < rows) ? 1u << i : 0u;
    }

    __device__ __forceinline__ void copy(uint32_t tile, int t) const
    {
#pragma unroll
        for (int i = 0; i < copies; i++)
        {
            const int at = k + t * MB_BK + (KContiguous ? 0 : i * lines);
            const bool valid = ((valid_rows >> i) & 1u) && at < depth;
            const int64_t offset = KContiguous ? (int64_t)i * lines * ld + t * MB_BK : ((int64_t)i * lines + t * MB_BK) * ld;
            copy16(tile + chunk_offset<KContiguous, Rows>(line + i * lines, chunk), valid ? source + offset : source, valid);
        }
    }
};

// The four 8 x 8 matrices of an ldmatrix.x4 for operand rows [row, row + 16) and k [kk, kk + 16); lane l addresses
// matrix l / 8, whose row (K contiguous) or k (transposed) is l % 8. `RowsMajor` orders the matrices (rows 0-7, k 0-7),
// (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15), which is an A fragment; otherwise (rows 0-7, k 0-7),
// (rows 0-7, k 8-15), (rows 8-15, k 0-7), (rows 8-15, k 8-15), which is the B fragments of two n8 tiles.
template <bool KContiguous, bool RowsMajor, int Rows>
__device__ __forceinline__ uint32_t fragment_address(uint32_t tile, int row, int kk, int lane)
{
    const int matrix = lane >> 3, index = lane & 7;
    const int row_half = RowsMajor ? matrix & 1 : matrix >> 1, k_half = RowsMajor ? matrix >> 1 : matrix & 1;
    const int r = row + row_half * 8, k = kk + k_half * 8;
    return KContiguous ? tile + chunk_offset<true, Rows>(r + index, k >> 3) : tile + chunk_offset<false, Rows>(k + index, r >> 3);
}

// C[M, N] = A B (+ bias[n]) (+ addend[M, N] when Accumulate: C itself, or a residual); lda / ldb are the operands'
// padded row lengths. SplitK: block z sums only k tiles [z split_tiles, (z + 1) split_tiles) into its own C[z]
// (matmul_split_sum_f32 adds them up), for products with too few output tiles to fill the device and a long K.
template <bool AKContiguous, bool BKContiguous, bool Accumulate, bool SplitK = false>
__device__ __forceinline__ void gemm_bf16(const uint16_t* __restrict__ a, const uint16_t* __restrict__ b, const float* __restrict__ bias,
    const float* addend, float* c, int m, int n, int k, int lda, int ldb, int split_tiles = 0)
{
    extern __shared__ __align__(128) uint8_t shared[];
    const uint32_t base = shared_address(shared);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int warp_m = (warp % MB_WARPS_M) * MB_WARP, warp_n = (warp / MB_WARPS_M) * MB_WARP;
    int block_m, block_n;
    grouped_block_tile<MB_BM, MB_BN, MB_GROUP_M>(m, block_m, block_n);
    // Chunks are checked against the padded extents: K contiguous rows are padded along k, the others along m or n.
    const int a_rows = AKContiguous ? m : lda, a_depth = AKContiguous ? lda : k;
    const int b_rows = BKContiguous ? n : ldb, b_depth = BKContiguous ? ldb : k;
    const int all_tiles = (k + MB_BK - 1) / MB_BK;
    const int first_tile = SplitK ? blockIdx.z * split_tiles : 0;
    const int k_tiles = SplitK ? min(split_tiles, all_tiles - first_tile) : all_tiles;
    if (SplitK)
        c += (int64_t)blockIdx.z * m * n;
    const OperandCopy<AKContiguous, MB_BM> copy_a(a, lda, a_rows, a_depth, block_m);
    const OperandCopy<BKContiguous, MB_BN> copy_b(b, ldb, b_rows, b_depth, block_n);
    // Stage s holds tile t with s = t % STAGES; the stage indices below advance with the tiles instead of dividing.
    auto load_stage = [&](int tile, int stage) {
        if (tile < k_tiles)
        {
            const uint32_t at = base + stage * MB_STAGE_BYTES;
            copy_a.copy(at, first_tile + tile);
            copy_b.copy(at + MB_A_BYTES, first_tile + tile);
        }
        commit_copies();
    };
    uint32_t fa[2][4][4], fb[2][4][4];
    auto load_fragments = [&](int buffer, int stage, int step) {
        const uint32_t at = base + stage * MB_STAGE_BYTES;
#pragma unroll
        for (int i = 0; i < 4; i++)
            ldmatrix_x4(fa[buffer][i], fragment_address<AKContiguous, true, MB_BM>(at, warp_m + i * 16, step * 16, lane), !AKContiguous);
#pragma unroll
        for (int j = 0; j < 4; j++)
            ldmatrix_x4(fb[buffer][j], fragment_address<BKContiguous, false, MB_BN>(at + MB_A_BYTES, warp_n + j * 16, step * 16, lane), !BKContiguous);
    };
    auto next_stage = [](int stage) { return stage == MB_STAGES - 1 ? 0 : stage + 1; };

#pragma unroll
    for (int s = 0; s < MB_STAGES - 1; s++)
        load_stage(s, s);
    float acc[4][8][4] = {};
    if (Accumulate)
        load_accumulators(acc, addend, m, n, block_m + warp_m, block_n + warp_n);
    // Tile t has landed once at most STAGES - 2 later groups are pending; the barrier makes it so for every thread.
    wait_copies<MB_STAGES - 2>();
    __syncthreads();
    load_fragments(0, 0, 0);

    int read_stage = 0, write_stage = MB_STAGES - 1;
    for (int kt = 0; kt < k_tiles; kt++)
    {
        // The stage this overwrites held tile kt - 1, whose fragments every warp loaded before the last barrier.
        load_stage(kt + MB_STAGES - 1, write_stage);
        write_stage = next_stage(write_stage);
#pragma unroll
        for (int step = 0; step < MB_STEPS; step++)
        {
            const int buffer = step & 1;
            if (step < MB_STEPS - 1)
                load_fragments(buffer ^ 1, read_stage, step + 1);
            else
            {
                wait_copies<MB_STAGES - 2>();
                __syncthreads();
                read_stage = next_stage(read_stage);
                if (kt + 1 < k_tiles)
                    load_fragments(buffer ^ 1, read_stage, 0);
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 8; j++)
                    mma_bf16(acc[i][j], fa[buffer][i], fb[buffer][j >> 1][(j & 1) * 2], fb[buffer][j >> 1][(j & 1) * 2 + 1]);
        }
    }
    wait_copies<0>();

    store_accumulators(acc, c, bias, m, n, block_m + warp_m, block_n + warp_n);
}

}  // namespace

// destination[rows, ld] (bf16, round to nearest even) = source[rows, columns] (float32), zeros in columns [columns, ld).
// A thread per pair of a row's destination elements (ld is a multiple of 8), rows over the grid's y, strided.
TRITTER_KERNEL void matmul_to_bf16(const float* __restrict__ source, uint32_t* __restrict__ destination, int rows, int columns, int ld)
{
    const int column = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
    if (column >= ld)
        return;
    const bool pair = (columns & 1) == 0 && column + 1 < columns && (reinterpret_cast<uintptr_t>(source) & 7) == 0;
    for (int row = blockIdx.y; row < rows; row += gridDim.y)
    {
        const float* const line = source + (int64_t)row * columns;
        float2 value = make_float2(0.0f, 0.0f);
        if (pair)
            value = *reinterpret_cast<const float2*>(line + column);
        else if (column < columns)
            value = make_float2(line[column], column + 1 < columns ? line[column + 1] : 0.0f);
        destination[(int64_t)row * (ld / 2) + column / 2] = pack_bf16(value.x, value.y);
    }
}

// output[rows, out] = input[rows, in] weight[out, in]^T + bias[out]; operands bf16 with rows padded to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_forward_bf16(const uint16_t* __restrict__ input, const uint16_t* __restrict__ weight,
    const float* __restrict__ bias, float* __restrict__ output, int rows, int in_features, int out_features, int ld_in)
{
    gemm_bf16<true, true, false>(input, weight, bias, nullptr, output, rows, out_features, in_features, ld_in, ld_in);
}

// output[rows, out] = residual[rows, out] + input[rows, in] weight[out, in]^T + bias[out]: a projection whose output
// joins a residual stream.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_forward_residual_bf16(const uint16_t* __restrict__ input,
    const uint16_t* __restrict__ weight, const float* __restrict__ bias, const float* __restrict__ residual, float* __restrict__ output, int rows, int in_features,
    int out_features, int ld_in)
{
    gemm_bf16<true, true, true>(input, weight, bias, residual, output, rows, out_features, in_features, ld_in, ld_in);
}

// input_gradient[rows, in] = output_gradient[rows, out] weight[out, in]; dY rows padded to ld_out, W rows to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_input_gradient_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ weight, float* __restrict__ input_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<true, false, false>(output_gradient, weight, nullptr, nullptr, input_gradient, rows, in_features, out_features, ld_out, ld_in);
}

// input_gradient[rows, in] += output_gradient[rows, out] weight[out, in]: a projection whose input also feeds others.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_input_gradient_add_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ weight, float* __restrict__ input_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<true, false, true>(output_gradient, weight, nullptr, input_gradient, input_gradient, rows, in_features, out_features, ld_out, ld_in);
}

// partials[z, rows, in] = output_gradient[rows, out z-th k range] weight[that range, in]: dX split over out into
// gridDim.z ranges of split_tiles k tiles (the output head's chunks: few rows, 65,536 outputs), summed by split_k_sum.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_input_gradient_split_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ weight, float* __restrict__ partials, int rows, int in_features, int out_features, int ld_out, int ld_in,
    int split_tiles)
{
    gemm_bf16<true, false, false, true>(output_gradient, weight, nullptr, nullptr, partials, rows, in_features, out_features, ld_out, ld_in, split_tiles);
}

// c[i] = (accumulate ? c[i] : 0) + partials[0, i] + ... + partials[splits - 1, i], in that order (deterministic).
TRITTER_KERNEL void matmul_split_sum_f32(const float* __restrict__ partials, int splits, int64_t count, float* __restrict__ c, int accumulate)
{
    const bool vector = (count & 3) == 0 && aligned16(partials) && aligned16(c);
    const int64_t items = vector ? count / 4 : count;
    for (int64_t i = global_thread(); i < items; i += grid_threads())
    {
        if (vector)
        {
            float4 sum = accumulate ? reinterpret_cast<const float4*>(c)[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            for (int z = 0; z < splits; z++)
            {
                const float4 p = reinterpret_cast<const float4*>(partials + z * count)[i];
                sum = make_float4(sum.x + p.x, sum.y + p.y, sum.z + p.z, sum.w + p.w);
            }
            reinterpret_cast<float4*>(c)[i] = sum;
            continue;
        }
        float sum = accumulate ? c[i] : 0.0f;
        for (int z = 0; z < splits; z++)
            sum += partials[z * count + i];
        c[i] = sum;
    }
}

// weight_gradient[out, in] += output_gradient[rows, out]^T input[rows, in]; dY rows padded to ld_out, X rows to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_weight_gradient_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ input, float* __restrict__ weight_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<false, false, true>(output_gradient, input, nullptr, weight_gradient, weight_gradient, out_features, in_features, rows, ld_out, ld_in);
}

// weight_gradient[out, in] = output_gradient[rows, out]^T input[rows, in]: the first contribution, with no read of C.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, MB_MIN_BLOCKS) matmul_weight_gradient_set_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ input, float* __restrict__ weight_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<false, false, false>(output_gradient, input, nullptr, nullptr, weight_gradient, out_features, in_features, rows, ld_out, ld_in);
}
