// Dense products of a linear layer on bf16 tensor cores (mma.sync m16n8k16, fp32 accumulation), and the float32 ->
// bf16 conversion that stages their operands. CPU twin: managed/Tritter.Cpu/Ops/Matmul.cs (float32; the GPU tests
// bound the difference). The TF32 kernels of matmul.cu compute the same three products from float32 operands.
//
// One kernel body, templated over where K runs in each operand, computes C[M, N] (+)= sum_k A(m, k) B(k, n):
//   forward  Y  = X W^T + b   A = X  (K contiguous),  B = W  (K contiguous),  bias added in the epilogue
//   dX       dX = dY W        A = dY (K contiguous),  B = W  (N contiguous)
//   dW       dW += dY^T X     A = dY (M contiguous),  B = X  (N contiguous),  C read back and added (beta = 1)
// C is row-major float32 [M, N] in all three. Operands are bf16 copies whose rows are padded with zeros to a multiple
// of 8 elements (matmul_to_bf16), so every 16-byte chunk of a row is wholly inside or outside it: chunks past the
// matrix load as zeros (cp.async zero-fill), which for K adds nothing and for M or N feeds outputs never stored.
//
// Floor: 2 M N K flops at the bf16 mma.sync rate, ~650 TFLOP/s measured by peak.cu on an H100 (twice TF32's; wgmma's
// ~989 is not portable to SM_120). Memory is no limit: a 128 x 128 block tile reads 2 * 128 * 2 bytes per k for
// 2 * 128 * 128 flops (64 flops per byte). Rounding each operand to bf16 (8 mantissa bits, round to nearest) puts each
// product within ~2^-8 |a||b| of the float32 one; the fp32 sum adds its usual K 2^-24.
//
// Block tile 128 x 128 x 32, 4 warps of 64 x 64, a 4-stage cp.async ring of 16 KiB stages (64 KiB; two blocks share an
// H100 SM, one fits SM_120's 99 KiB). Fragments come from ldmatrix: plain where the tile holds K contiguous
// ([row][k], 64-byte rows, chunk c of row r stored at c ^ ((r / 2) % 4)), transposed (.trans) where it holds rows
// contiguous ([k][row], 256-byte rows, chunk c of k stored at c ^ (k % 8)); both swizzles put the 8 rows one ldmatrix
// phase reads in 8 different bank groups.
#include "matmul_store.cuh"
#include "tf32.cuh"

#define MB_BM 128
#define MB_BN 128
#define MB_BK 32
#ifndef MB_STAGES
#define MB_STAGES 4
#endif
#define MB_THREADS 128
#define MB_WARP 64
#define MB_TILE_BYTES (MB_BM * MB_BK * 2)

namespace {

__device__ __forceinline__ void copy16_bytes(uint32_t destination, const void* source, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(destination), "l"(source), "r"(valid ? 16 : 0));
}

// Byte offset of 16-byte chunk `chunk` of tile row `row` (a row of 128 operand rows at one k when !KContiguous).
template <bool KContiguous>
__device__ __forceinline__ uint32_t chunk_offset(int row, int chunk)
{
    return KContiguous ? row * (MB_BK * 2) + ((chunk ^ ((row >> 1) & 3)) << 4) : row * (MB_BM * 2) + ((chunk ^ (row & 7)) << 4);
}

// Copies the tile of operand rows [row0, row0 + 128) and k [k0, k0 + 32): element (row, k) at source[row * ld + k]
// (K contiguous) or source[k * ld + row]; `rows` and `depth` are the padded extents the chunks are checked against.
template <bool KContiguous>
__device__ __forceinline__ void load_tile(uint32_t tile, const uint16_t* __restrict__ source, int ld, int rows, int depth, int row0, int k0)
{
    constexpr int chunks = MB_BM * MB_BK / 8;
#pragma unroll
    for (int c = threadIdx.x; c < chunks; c += MB_THREADS)
    {
        // K contiguous: 4 chunks per operand row; otherwise 16 chunks per k.
        const int line = KContiguous ? c >> 2 : c >> 4, chunk = KContiguous ? c & 3 : c & 15;
        const int row = KContiguous ? row0 + line : row0 + chunk * 8, k = KContiguous ? k0 + chunk * 8 : k0 + line;
        const bool valid = row < rows && k < depth;
        const int64_t offset = KContiguous ? (int64_t)row * ld + k : (int64_t)k * ld + row;
        copy16_bytes(tile + chunk_offset<KContiguous>(line, chunk), valid ? source + offset : source, valid);
    }
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t address, bool transpose)
{
    if (transpose)
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
}

// The four 8 x 8 matrices of an ldmatrix.x4 for operand rows [row, row + 16) and k [kk, kk + 16); lane l addresses
// matrix l / 8, whose row (K contiguous) or k (transposed) is l % 8. `RowsMajor` orders the matrices (rows 0-7, k 0-7),
// (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15), which is an A fragment; otherwise (rows 0-7, k 0-7),
// (rows 0-7, k 8-15), (rows 8-15, k 0-7), (rows 8-15, k 8-15), which is the B fragments of two n8 tiles.
template <bool KContiguous, bool RowsMajor>
__device__ __forceinline__ uint32_t fragment_address(uint32_t tile, int row, int kk, int lane)
{
    const int matrix = lane >> 3, index = lane & 7;
    const int row_half = RowsMajor ? matrix & 1 : matrix >> 1, k_half = RowsMajor ? matrix >> 1 : matrix & 1;
    const int r = row + row_half * 8, k = kk + k_half * 8;
    return KContiguous ? tile + chunk_offset<true>(r + index, k >> 3) : tile + chunk_offset<false>(k + index, r >> 3);
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// C[M, N] = A B (+ bias[n]) (+ C when Accumulate); lda / ldb are the operands' padded row lengths.
template <bool AKContiguous, bool BKContiguous, bool Accumulate>
__device__ __forceinline__ void gemm_bf16(const uint16_t* __restrict__ a, const uint16_t* __restrict__ b, const float* __restrict__ bias,
    float* __restrict__ c, int m, int n, int k, int lda, int ldb)
{
    extern __shared__ __align__(128) uint8_t shared[];
    const uint32_t base = shared_address(shared);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int warp_m = (warp & 1) * MB_WARP, warp_n = (warp >> 1) * MB_WARP;
    const int block_m = blockIdx.y * MB_BM, block_n = blockIdx.x * MB_BN;
    // Chunks are checked against the padded extents: K contiguous rows are padded along k, the others along m or n.
    const int a_rows = AKContiguous ? m : lda, a_depth = AKContiguous ? lda : k;
    const int b_rows = BKContiguous ? n : ldb, b_depth = BKContiguous ? ldb : k;
    const int k_tiles = (k + MB_BK - 1) / MB_BK;
    auto stage_a = [&](int s) { return base + s * 2 * MB_TILE_BYTES; };
    auto stage_b = [&](int s) { return base + s * 2 * MB_TILE_BYTES + MB_TILE_BYTES; };

#pragma unroll
    for (int s = 0; s < MB_STAGES - 1; s++)
    {
        if (s < k_tiles)
        {
            load_tile<AKContiguous>(stage_a(s), a, lda, a_rows, a_depth, block_m, s * MB_BK);
            load_tile<BKContiguous>(stage_b(s), b, ldb, b_rows, b_depth, block_n, s * MB_BK);
        }
        commit_copies();
    }

    float acc[4][8][4] = {};
    for (int kt = 0; kt < k_tiles; kt++)
    {
        // Tile kt has landed once at most STAGES - 2 later groups are pending; the barrier also frees the stage that
        // iteration kt - 1 computed on, which the prefetch below overwrites.
        wait_copies<MB_STAGES - 2>();
        __syncthreads();
        const int next = kt + MB_STAGES - 1;
        if (next < k_tiles)
        {
            load_tile<AKContiguous>(stage_a(next % MB_STAGES), a, lda, a_rows, a_depth, block_m, next * MB_BK);
            load_tile<BKContiguous>(stage_b(next % MB_STAGES), b, ldb, b_rows, b_depth, block_n, next * MB_BK);
        }
        commit_copies();

        const uint32_t tile_a = stage_a(kt % MB_STAGES), tile_b = stage_b(kt % MB_STAGES);
        uint32_t fa[2][4][4], fb[2][4][4];
#pragma unroll
        for (int step = 0; step < 2; step++)
        {
#pragma unroll
            for (int i = 0; i < 4; i++)
                ldmatrix_x4(fa[step][i], fragment_address<AKContiguous, true>(tile_a, warp_m + i * 16, step * 16, lane), !AKContiguous);
#pragma unroll
            for (int j = 0; j < 4; j++)
                ldmatrix_x4(fb[step][j], fragment_address<BKContiguous, false>(tile_b, warp_n + j * 16, step * 16, lane), !BKContiguous);
        }
#pragma unroll
        for (int step = 0; step < 2; step++)
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 8; j++)
                    mma_bf16(acc[i][j], fa[step][i], fb[step][j >> 1][(j & 1) * 2], fb[step][j >> 1][(j & 1) * 2 + 1]);
    }
    wait_copies<0>();

    store_accumulators<Accumulate>(acc, c, bias, m, n, block_m + warp_m, block_n + warp_n);
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
        uint32_t packed;
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(packed) : "f"(value.y), "f"(value.x));
        destination[(int64_t)row * (ld / 2) + column / 2] = packed;
    }
}

// output[rows, out] = input[rows, in] weight[out, in]^T + bias[out]; operands bf16 with rows padded to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, 2) matmul_forward_bf16(const uint16_t* __restrict__ input, const uint16_t* __restrict__ weight,
    const float* __restrict__ bias, float* __restrict__ output, int rows, int in_features, int out_features, int ld_in)
{
    gemm_bf16<true, true, false>(input, weight, bias, output, rows, out_features, in_features, ld_in, ld_in);
}

// input_gradient[rows, in] = output_gradient[rows, out] weight[out, in]; dY rows padded to ld_out, W rows to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, 2) matmul_input_gradient_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ weight, float* __restrict__ input_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<true, false, false>(output_gradient, weight, nullptr, input_gradient, rows, in_features, out_features, ld_out, ld_in);
}

// weight_gradient[out, in] += output_gradient[rows, out]^T input[rows, in]; dY rows padded to ld_out, X rows to ld_in.
TRITTER_KERNEL void __launch_bounds__(MB_THREADS, 2) matmul_weight_gradient_bf16(const uint16_t* __restrict__ output_gradient,
    const uint16_t* __restrict__ input, float* __restrict__ weight_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_bf16<false, false, true>(output_gradient, input, nullptr, weight_gradient, out_features, in_features, rows, ld_out, ld_in);
}
