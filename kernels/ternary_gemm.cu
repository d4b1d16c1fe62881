// W1.58A8 GEMM for training on packed 2-bit weights (IPackedTernaryTrainingOps.PackedTernaryInt8Matmul):
// output[m, n] = (sum_k x[m, k] q[n, k]) * (scale(n) * row_scale[m]) + bias[n], x int8 [M, K] (per-token absmax
// activations), q the canonical 2-bit codes of docs/formats/ternary-packing.md. CPU twin: CpuBackend.PackedTernaryTraining
// (the codes unpacked, then Ternary.Int8Matmul); the integer sums are exact, so the two agree bit for bit.
//
// Floor: 2 M N K integer operations on the int8 tensor cores through mma.sync m16n8k32 (Hopper's wgmma is not
// portable to SM_120): ~1290 TOP/s measured by peak.cu on an H100. Bytes are no limit: a 128 x 256 block tile reads
// 128 + 256 / 4 bytes per k for 2 x 128 x 256 operations.
//
// Weights: ternary_gemm_layout rewrites the canonical codes once per call (N K / 4 bytes read and written, ~3% of a
// 2048-token product) into the mma layout, so that a lane turns one 32-bit word into its B fragments with a shift and
// a mask each. A code becomes the 2-bit two's complement (01 = +1, 11 = -1), and is placed in the top two bits of a
// byte: the B operand is 64 q, the sums 64 times the true ones (exact while 64 * 127 * K < 2^31) and shifted back.
// Per row n, per 128 weights (a k tile), 8 words ordered [lane t][slab]: word (t, slab) holds in byte i, bit pair j the
// code of weight 64 slab + 16 j + 4 t + i, which is exactly the weight that thread t of an m16n8k32 fragment meets in
// byte i of its B register j (k step j / 2 of the slab, register j % 2). Rows are padded to k tiles with zeros.
//
// Pipeline: block tile BM x BN x 128, 8 warps of (16 MT) x (8 NT), a STAGES-deep cp.async ring of int8 activations
// (rows of 128 bytes, 16-byte chunks XOR-swizzled by row so that ldmatrix.x4 is free of bank conflicts) and layout
// words (rows of 32 bytes, read as one 8-byte load per lane and n tile, conflict-free as 32 lanes cover 256 bytes).
#include "common.cuh"

namespace {
constexpr int kTileK = 128;        // k per pipeline step: two 64-weight slabs of layout words
constexpr int kLayoutRowBytes = 32; // layout bytes per row and k tile
constexpr int kThreads = 256;

__device__ __forceinline__ uint32_t shared_address(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void copy16(uint32_t destination, const void* source, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(destination), "l"(source), "r"(valid ? 16 : 0));
}

// B register j of a layout word: byte i = 64 q(64 slab + 16 j + 4 t + i).
__device__ __forceinline__ uint32_t weight_fragment(uint32_t word, int j) { return (word << (6 - 2 * j)) & 0xC0C0C0C0u; }

template <int WarpsM, int WarpsN, int MT, int NT>
struct Tile {
    static constexpr int M = WarpsM * MT * 16;
    static constexpr int N = WarpsN * NT * 8;
    static constexpr int ActivationBytes = M * kTileK;
    static constexpr int StageBytes = ActivationBytes + N * kLayoutRowBytes;
};

template <int WarpsM, int WarpsN, int MT, int NT>
__device__ __forceinline__ void load_stage(uint8_t* stage, const int8_t* __restrict__ x, const uint8_t* __restrict__ layout,
                                           int rows, int k, int outputs, int layout_row_bytes, int first_row, int first_out, int tile)
{
    using T = Tile<WarpsM, WarpsN, MT, NT>;
    const int k0 = tile * kTileK;
    for (int c = threadIdx.x; c < T::M * 8; c += kThreads) {
        const int row = c >> 3, chunk = c & 7;
        const bool valid = first_row + row < rows && k0 + chunk * 16 < k;
        const int8_t* source = valid ? x + (int64_t)(first_row + row) * k + k0 + chunk * 16 : x;
        copy16(shared_address(stage + row * kTileK + ((chunk ^ (row & 7)) << 4)), source, valid);
    }
    uint8_t* weights = stage + T::ActivationBytes;
    for (int c = threadIdx.x; c < T::N * 2; c += kThreads) {
        const int n = c >> 1, half = c & 1;
        const bool valid = first_out + n < outputs;
        const uint8_t* source = valid ? layout + (int64_t)(first_out + n) * layout_row_bytes + tile * kLayoutRowBytes + half * 16 : layout;
        copy16(shared_address(weights + n * kLayoutRowBytes + half * 16), source, valid);
    }
}

template <int WarpsM, int WarpsN, int MT, int NT, int Stages>
__device__ __forceinline__ void gemm(const int8_t* __restrict__ x, const float* __restrict__ row_scale, const uint8_t* __restrict__ layout,
                                     const float* __restrict__ scale, int per_row_scale, const float* __restrict__ bias,
                                     float* __restrict__ output, int rows, int k, int outputs)
{
    using T = Tile<WarpsM, WarpsN, MT, NT>;
    extern __shared__ __align__(128) uint8_t shared[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int group = lane >> 2, thread_in_group = lane & 3;
    const int warp_row = (warp / WarpsN) * MT * 16, warp_col = (warp % WarpsN) * NT * 8;
    const int first_row = blockIdx.y * T::M, first_out = blockIdx.x * T::N;
    const int tiles = (k + kTileK - 1) / kTileK;
    const int layout_row_bytes = tiles * kLayoutRowBytes;

#pragma unroll
    for (int s = 0; s < Stages - 1; s++) {
        if (s < tiles)
            load_stage<WarpsM, WarpsN, MT, NT>(shared + s * T::StageBytes, x, layout, rows, k, outputs, layout_row_bytes, first_row, first_out, s);
        asm volatile("cp.async.commit_group;\n" ::);
    }

    int acc[MT][NT][4] = {};
    for (int tile = 0; tile < tiles; tile++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(Stages - 2));
        __syncthreads();
        const int next = tile + Stages - 1;
        if (next < tiles)
            load_stage<WarpsM, WarpsN, MT, NT>(shared + (next % Stages) * T::StageBytes, x, layout, rows, k, outputs, layout_row_bytes,
                                               first_row, first_out, next);
        asm volatile("cp.async.commit_group;\n" ::);

        const uint8_t* stage = shared + (tile % Stages) * T::StageBytes;
        uint2 words[NT];
#pragma unroll
        for (int j = 0; j < NT; j++)
            words[j] = *reinterpret_cast<const uint2*>(stage + T::ActivationBytes + (warp_col + j * 8 + group) * kLayoutRowBytes + thread_in_group * 8);
#pragma unroll
        for (int step = 0; step < 4; step++) {
            uint32_t a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; i++) {
                const int row = warp_row + i * 16 + (lane & 15), chunk = step * 2 + (lane >> 4);
                const uint32_t address = shared_address(stage + row * kTileK + ((chunk ^ (row & 7)) << 4));
                asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                             : "=r"(a[i][0]), "=r"(a[i][1]), "=r"(a[i][2]), "=r"(a[i][3]) : "r"(address));
            }
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const uint32_t word = (step >> 1) ? words[j].y : words[j].x;
                const uint32_t b0 = weight_fragment(word, (step & 1) * 2), b1 = weight_fragment(word, (step & 1) * 2 + 1);
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                                 : "+r"(acc[i][j][0]), "+r"(acc[i][j][1]), "+r"(acc[i][j][2]), "+r"(acc[i][j][3])
                                 : "r"(a[i][0]), "r"(a[i][1]), "r"(a[i][2]), "r"(a[i][3]), "r"(b0), "r"(b1));
                }
            }
        }
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

#pragma unroll
    for (int i = 0; i < MT; i++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int m = first_row + warp_row + i * 16 + group + half * 8;
            if (m >= rows) continue;
            const float s_m = row_scale[m];
#pragma unroll
            for (int j = 0; j < NT; j++) {
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int n = first_out + warp_col + j * 8 + thread_in_group * 2 + e;
                    if (n >= outputs) continue;
                    const float rescale = __fmul_rn(scale[per_row_scale ? n : 0], s_m);
                    const float b_n = bias != nullptr ? bias[n] : 0.0f;
                    output[(int64_t)m * outputs + n] = __fadd_rn(__fmul_rn(__int2float_rn(acc[i][j][half * 2 + e] >> 6), rescale), b_n);
                }
            }
        }
    }
}
}

// One thread per layout word (row n, k tile, lane t, slab): gathers byte t of the four canonical words of the slab
// and transposes bytes and bit pairs, 00 / 01 / 10 -> 00 / 01 / 11. Canonical words beyond the row read as zeros.
TRITTER_KERNEL void ternary_gemm_layout(const uint32_t* __restrict__ canonical, int canonical_words_per_row, int outputs, int tiles,
                                        uint32_t* __restrict__ layout)
{
    const int64_t words = (int64_t)outputs * tiles * 8;
    for (int64_t index = global_thread(); index < words; index += grid_threads()) {
        const int slab = (int)(index & 1), t = (int)((index >> 1) & 3);
        const int64_t row_tile = index >> 3;
        const int tile = (int)(row_tile % tiles);
        const int64_t n = row_tile / tiles;
        uint32_t result = 0;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int w = tile * 8 + slab * 4 + j;
            uint32_t word = w < canonical_words_per_row ? canonical[n * canonical_words_per_row + w] : 0u;
            word |= (word & 0xAAAAAAAAu) >> 1;
#pragma unroll
            for (int i = 0; i < 4; i++) result |= ((word >> (8 * t + 2 * i)) & 3u) << (8 * i + 2 * j);
        }
        layout[index] = result;
    }
}

// Activations whose K is not a multiple of 16 (or whose rows are not 16-byte aligned): a zero-padded copy [M, padded].
TRITTER_KERNEL void ternary_gemm_pad_rows(const int8_t* __restrict__ x, int rows, int k, int padded, int8_t* __restrict__ out)
{
    const int64_t count = (int64_t)rows * padded;
    for (int64_t index = global_thread(); index < count; index += grid_threads()) {
        const int column = (int)(index % padded);
        out[index] = column < k ? x[index / padded * k + column] : (int8_t)0;
    }
}

// Block tiles (KernelLaunch.TernaryGemmTiles): 128 rows x 256, 224, 192 or 160 outputs, 4 stages, so that the grid of
// every shape can be picked with little of a last wave idle.
#define TERNARY_GEMM(NAME, WM, WN, MT, NT, STAGES)                                                                                   \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) NAME(const int8_t* __restrict__ x, const float* __restrict__ row_scale,      \
        const uint8_t* __restrict__ layout, const float* __restrict__ scale, int per_row_scale, const float* __restrict__ bias,      \
        float* __restrict__ output, int rows, int k, int outputs)                                                                    \
    {                                                                                                                                \
        gemm<WM, WN, MT, NT, STAGES>(x, row_scale, layout, scale, per_row_scale, bias, output, rows, k, outputs);                   \
    }

TERNARY_GEMM(ternary_gemm_128x256_s4, 2, 4, 4, 8, 4)
TERNARY_GEMM(ternary_gemm_128x224_s4, 2, 4, 4, 7, 4)
TERNARY_GEMM(ternary_gemm_128x192_s4, 2, 4, 4, 6, 4)
TERNARY_GEMM(ternary_gemm_128x160_s4, 2, 4, 4, 5, 4)
TERNARY_GEMM(ternary_gemm_128x256_s3, 2, 4, 4, 8, 3)
TERNARY_GEMM(ternary_gemm_256x128_s3, 4, 2, 4, 8, 3)
TERNARY_GEMM(ternary_gemm_128x128_s4, 2, 4, 4, 4, 4)
