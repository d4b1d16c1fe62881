// Dense float32 products of a linear layer on tensor cores (TF32 mma.sync, fp32 accumulation), and the bias gradient.
// CPU twin: managed/Tritter.Cpu/Ops/Matmul.cs. Weights are [out, in]; inputs are [rows, in].
//
// One kernel body, templated over where K runs in each operand, computes C[M, N] (+)= sum_k A(m, k) B(k, n):
//   forward  Y  = X W^T + b   A = X  (K contiguous),  B = W  (K contiguous),  bias added in the epilogue
//   dX       dX = dY W        A = dY (K contiguous),  B = W  (N contiguous)
//   dW       dW += dY^T X     A = dY (M contiguous),  B = X  (N contiguous),  C read back and added (beta = 1)
// C is row-major [M, N] in all three.
//
// Floor: 2 M N K flops. H100 SXM's dense TF32 tensor peak is ~495 TFLOP/s, reached only through wgmma; mma.sync (the
// instruction SM_80..SM_120 share) issues at a fraction of that on Hopper, so cuBLAS through PyTorch with TF32 on the
// same shapes is the practical anchor (bench/results/nvidia-h100-80gb-hbm3/dense-matmul.md). Memory is no limit at
// training sizes: a 128x128 block tile reads 2 * 128 * 4 bytes per k for 2 * 128 * 128 flops (32 flops per byte).
//
// Block tile 128 x 128 x 32, 4 warps of 64 x 64, a 2-stage cp.async pipeline in 80 KiB of shared memory (fits SM_120's
// 99 KiB, and two blocks share an H100 SM). Measured on the H100 (bench/results/nvidia-h100-80gb-hbm3/dense-matmul.md)
// against 8 warps of 64 x 32 or of 32 x 64 and k 16 with 3 or 4 stages: the largest warp tile halves the shared
// loads per mma, and with two resident blocks a deeper k beats more stages. Tiles whose K runs contiguously are stored
// [row][k] with 8 floats of padding, the others [k][row] with 4 or 8: the strides that make every fragment load below
// conflict-free.
//
// TF32 fragments of m16n8k8 (tf32.cuh) give lane (g = lane / 4, t = lane % 4) the k slots t and t + 4. The product sums
// over k, so any k order shared by A and B gives the same result: where A's K is contiguous, slot t reads k = 2t and
// slot t + 4 reads k = 2t + 1, one 64-bit shared load per fragment row instead of two 32-bit ones. Operands are rounded to TF32
// (round to nearest, 10 mantissa bits), not truncated, so errors have no bias: each product is within ~2^-10 of
// |a||b|, and the fp32 sum adds its usual K 2^-24.
//
// Edges: any M, N, K. Rows outside M or N and k past K load as zeros (cp.async zero-fill); C stores are predicated. The
// 16-byte copies need the contiguous extent (always the leading dimension here) to be a multiple of 4 and the base
// 16-byte aligned; otherwise each float is copied alone (4-byte cp.async, same zero-fill).
#include "matmul_store.cuh"
#include "reduce.cuh"
#include "tf32.cuh"

// The launch side (KernelLaunch.Matmul*) assumes these defaults; the overrides exist for tuning builds only.
#define MM_BM 128
#define MM_BN 128
#ifndef MM_BK
#define MM_BK 32
#endif
#ifndef MM_STAGES
#define MM_STAGES 2
#endif
#ifndef MM_WARP_M
#define MM_WARP_M 64
#endif
#ifndef MM_WARP_N
#define MM_WARP_N 64
#endif
#define MM_WARPS_M (MM_BM / MM_WARP_M)
#define MM_THREADS (32 * MM_WARPS_M * (MM_BN / MM_WARP_N))
#define MM_M_TILES (MM_WARP_M / 16)
#define MM_N_TILES (MM_WARP_N / 8)

// Shared strides (floats): [row][k] tiles pad rows to BK + 8 (64-bit loads of lanes 0..15 hit 32 distinct banks when
// BK + 8 is 8 or 24 mod 32);
// [k][row] tiles pad to 128 + 4 when k is paired (lane bank 8t + g) or 128 + 8 when not (bank 8t + g as well).
#define MM_K_STRIDE (MM_BK + 8)
#define MM_MN_STRIDE_PAIRED (MM_BM + 4)
#define MM_MN_STRIDE_PLAIN (MM_BM + 8)

template <bool KContiguous, bool Paired>
struct TileLayout
{
    static constexpr int stride = KContiguous ? MM_K_STRIDE : (Paired ? MM_MN_STRIDE_PAIRED : MM_MN_STRIDE_PLAIN);
    static constexpr int floats = KContiguous ? MM_BM * MM_K_STRIDE : MM_BK * stride;
    __device__ static __forceinline__ int at(int row, int k) { return KContiguous ? row * stride + k : k * stride + row; }
};

// Copies one 128-row x MM_BK-k tile of an operand whose element (row, k) is at source[row * ld + k] (K contiguous) or
// source[k * ld + row], for rows [row0, row0 + 128) of `rows` and k [k0, k0 + MM_BK) of `depth`.
template <bool KContiguous, bool Paired>
__device__ __forceinline__ void load_tile(float* tile, const float* __restrict__ source, int ld, int rows, int depth,
    int row0, int k0, bool vector)
{
    using Layout = TileLayout<KContiguous, Paired>;
    // A fixed count of chunks a thread, so that the loops unroll without the branches a threadIdx-bounded loop compiles to.
    constexpr int chunks = MM_BM * MM_BK / 4;
    static_assert(chunks % MM_THREADS == 0, "whole chunks a thread");
    if (vector)
    {
#pragma unroll
        for (int n = 0; n < chunks / MM_THREADS; n++)
        {
            const int c = threadIdx.x + n * MM_THREADS;
            const int row = KContiguous ? c / (MM_BK / 4) : (c % (MM_BM / 4)) * 4;
            const int k = KContiguous ? (c % (MM_BK / 4)) * 4 : c / (MM_BM / 4);
            const bool valid = row0 + row < rows && k0 + k < depth;
            const int64_t offset = KContiguous ? (int64_t)(row0 + row) * ld + k0 + k : (int64_t)(k0 + k) * ld + row0 + row;
            copy16(tile + Layout::at(row, k), valid ? source + offset : source, valid);
        }
        return;
    }
#pragma unroll
    for (int n = 0; n < chunks / MM_THREADS; n++)
    {
        const int c = threadIdx.x + n * MM_THREADS;
#pragma unroll
        for (int e = 0; e < 4; e++)
        {
            const int row = KContiguous ? c / (MM_BK / 4) : (c % (MM_BM / 4)) * 4 + e;
            const int k = KContiguous ? (c % (MM_BK / 4)) * 4 + e : c / (MM_BM / 4);
            const bool valid = row0 + row < rows && k0 + k < depth;
            const int64_t offset = KContiguous ? (int64_t)(row0 + row) * ld + k0 + k : (int64_t)(k0 + k) * ld + row0 + row;
            copy4(tile + Layout::at(row, k), valid ? source + offset : source, valid);
        }
    }
}

// The two k of fragment slots t and t + 4 at k-step kk: paired (2t, 2t + 1) or the natural (t, t + 4).
template <bool Paired>
__device__ __forceinline__ int2 slot_k(int kk, int t) { return Paired ? make_int2(kk + 2 * t, kk + 2 * t + 1) : make_int2(kk + t, kk + t + 4); }

template <bool KContiguous, bool Paired>
__device__ __forceinline__ float2 load_pair(const float* tile, int row, int kk, int t)
{
    using Layout = TileLayout<KContiguous, Paired>;
    if (KContiguous && Paired)
        return *reinterpret_cast<const float2*>(tile + Layout::at(row, kk + 2 * t));
    const int2 k = slot_k<Paired>(kk, t);
    return make_float2(tile[Layout::at(row, k.x)], tile[Layout::at(row, k.y)]);
}

// C[M, N] = A B (+ bias[n]) (+ addend[M, N] when Accumulate: C itself, or a residual); A(m, k) and B(k, n) as the
// layouts say, leading dimensions lda, ldb.
template <bool AKContiguous, bool BKContiguous, bool Accumulate>
__device__ __forceinline__ void gemm_tf32(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ bias,
    const float* addend, float* c, int m, int n, int k, int lda, int ldb)
{
    // Pairing needs K-contiguous A; B follows A's choice so both see the same k order.
    constexpr bool paired = AKContiguous;
    using LayoutA = TileLayout<AKContiguous, paired>;
    using LayoutB = TileLayout<BKContiguous, paired>;
    extern __shared__ __align__(16) float shared[];
    float* const tiles_a = shared;
    float* const tiles_b = shared + MM_STAGES * LayoutA::floats;

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int warp_m = (warp % MM_WARPS_M) * MM_WARP_M, warp_n = (warp / MM_WARPS_M) * MM_WARP_N;
    const int block_m = blockIdx.y * MM_BM, block_n = blockIdx.x * MM_BN;
    const bool vector_a = (lda & 3) == 0 && aligned16(a), vector_b = (ldb & 3) == 0 && aligned16(b);
    const int k_tiles = (k + MM_BK - 1) / MM_BK;

#pragma unroll
    for (int s = 0; s < MM_STAGES - 1; s++)
    {
        if (s < k_tiles)
        {
            load_tile<AKContiguous, paired>(tiles_a + s * LayoutA::floats, a, lda, m, k, block_m, s * MM_BK, vector_a);
            load_tile<BKContiguous, paired>(tiles_b + s * LayoutB::floats, b, ldb, n, k, block_n, s * MM_BK, vector_b);
        }
        commit_copies();
    }
    float acc[MM_M_TILES][MM_N_TILES][4] = {};
    if (Accumulate)
        load_accumulators(acc, addend, m, n, block_m + warp_m, block_n + warp_n);

    for (int kt = 0; kt < k_tiles; kt++)
    {
        // Tile kt has landed once at most STAGES - 2 later groups are pending; the barrier also frees the stage that
        // iteration kt - 1 computed on, which the prefetch below overwrites.
        wait_copies<MM_STAGES - 2>();
        __syncthreads();
        const int next = kt + MM_STAGES - 1;
        if (next < k_tiles)
        {
            const int stage = next % MM_STAGES;
            load_tile<AKContiguous, paired>(tiles_a + stage * LayoutA::floats, a, lda, m, k, block_m, next * MM_BK, vector_a);
            load_tile<BKContiguous, paired>(tiles_b + stage * LayoutB::floats, b, ldb, n, k, block_n, next * MM_BK, vector_b);
        }
        commit_copies();

        const float* tile_a = tiles_a + (kt % MM_STAGES) * LayoutA::floats;
        const float* tile_b = tiles_b + (kt % MM_STAGES) * LayoutB::floats;
#pragma unroll
        for (int kk = 0; kk < MM_BK; kk += 8)
        {
            uint32_t fa[MM_M_TILES][4], fb[MM_N_TILES][2];
#pragma unroll
            for (int i = 0; i < MM_M_TILES; i++)
            {
                const int row = warp_m + i * 16 + g;
                const float2 top = load_pair<AKContiguous, paired>(tile_a, row, kk, t);
                const float2 bottom = load_pair<AKContiguous, paired>(tile_a, row + 8, kk, t);
                fa[i][0] = to_tf32(top.x);
                fa[i][1] = to_tf32(bottom.x);
                fa[i][2] = to_tf32(top.y);
                fa[i][3] = to_tf32(bottom.y);
            }
#pragma unroll
            for (int j = 0; j < MM_N_TILES; j++)
            {
                const float2 pair = load_pair<BKContiguous, paired>(tile_b, warp_n + j * 8 + g, kk, t);
                fb[j][0] = to_tf32(pair.x);
                fb[j][1] = to_tf32(pair.y);
            }
#pragma unroll
            for (int i = 0; i < MM_M_TILES; i++)
#pragma unroll
                for (int j = 0; j < MM_N_TILES; j++)
                    mma_tf32(acc[i][j], fa[i], fb[j]);
        }
    }
    wait_copies<0>();

    store_accumulators(acc, c, bias, m, n, block_m + warp_m, block_n + warp_n);
}

// output[rows, out] = input[rows, in] weight[out, in]^T + bias[out] (bias may be null).
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_forward_f32(const float* __restrict__ input, const float* __restrict__ weight,
    const float* __restrict__ bias, float* __restrict__ output, int rows, int in_features, int out_features)
{
    gemm_tf32<true, true, false>(input, weight, bias, nullptr, output, rows, out_features, in_features, in_features, in_features);
}

// output[rows, out] = residual[rows, out] + input[rows, in] weight[out, in]^T + bias[out]: a projection whose output
// joins a residual stream.
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_forward_residual_f32(const float* __restrict__ input, const float* __restrict__ weight,
    const float* __restrict__ bias, const float* __restrict__ residual, float* __restrict__ output, int rows, int in_features, int out_features)
{
    gemm_tf32<true, true, true>(input, weight, bias, residual, output, rows, out_features, in_features, in_features, in_features);
}

// input_gradient[rows, in] = output_gradient[rows, out] weight[out, in].
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_input_gradient_f32(const float* __restrict__ output_gradient,
    const float* __restrict__ weight, float* __restrict__ input_gradient, int rows, int in_features, int out_features)
{
    gemm_tf32<true, false, false>(output_gradient, weight, nullptr, nullptr, input_gradient, rows, in_features, out_features, out_features, in_features);
}

// input_gradient[rows, in] += output_gradient[rows, out] weight[out, in]: a projection whose input also feeds others.
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_input_gradient_add_f32(const float* __restrict__ output_gradient,
    const float* __restrict__ weight, float* __restrict__ input_gradient, int rows, int in_features, int out_features)
{
    gemm_tf32<true, false, true>(output_gradient, weight, nullptr, input_gradient, input_gradient, rows, in_features, out_features, out_features, in_features);
}

// weight_gradient[out, in] += output_gradient[rows, out]^T input[rows, in].
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_weight_gradient_f32(const float* __restrict__ output_gradient,
    const float* __restrict__ input, float* __restrict__ weight_gradient, int rows, int in_features, int out_features)
{
    gemm_tf32<false, false, true>(output_gradient, input, nullptr, weight_gradient, weight_gradient, out_features, in_features, rows, out_features, in_features);
}

// weight_gradient[out, in] = output_gradient[rows, out]^T input[rows, in]: the first contribution, with no read of C.
TRITTER_KERNEL void __launch_bounds__(MM_THREADS) matmul_weight_gradient_set_f32(const float* __restrict__ output_gradient,
    const float* __restrict__ input, float* __restrict__ weight_gradient, int rows, int in_features, int out_features)
{
    gemm_tf32<false, false, false>(output_gradient, input, nullptr, nullptr, weight_gradient, out_features, in_features, rows, out_features, in_features);
}

// Bias gradient, deterministic without atomics: block (x, y) sums rows [y * rows_per_chunk, ...) of its columns in row
// order into partials[y, column]; matmul_column_sum adds the partials onto the existing gradient, a warp per column in
// a fixed order (lane l the chunks l, l + 32, ..., then a tree over the lanes).
TRITTER_KERNEL void matmul_column_partials_f32(const float* __restrict__ matrix, float* __restrict__ partials, int rows, int width,
    int rows_per_chunk)
{
    const int column = blockIdx.x * blockDim.x + threadIdx.x;
    if (column >= width)
        return;
    const int first = blockIdx.y * rows_per_chunk, last = min(rows, first + rows_per_chunk);
    float sum = 0.0f;
    for (int row = first; row < last; row++)
        sum += matrix[(int64_t)row * width + column];
    partials[(int64_t)blockIdx.y * width + column] = sum;
}

TRITTER_KERNEL void matmul_column_sum_f32(const float* __restrict__ partials, int chunks, int width, float* __restrict__ sums)
{
    const int column = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (column >= width)
        return;
    float sum = 0.0f;
    // Sixteen chunks' loads in flight before their adds (the adds keep their order): the loads are the latency.
#pragma unroll 16
    for (int chunk = lane; chunk < chunks; chunk += 32)
        sum += partials[(int64_t)chunk * width + column];
    sum = warp_sum(sum);
    if (lane == 0)
        sums[column] += sum;
}
