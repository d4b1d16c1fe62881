// W1.58A8 GEMM for training: output[m, n] = (sum_k x[m, k] q[n, k]) * (scale(n) * row_scale[m]) + bias[n], x int8
// [M, K] (per-token absmax activations), q ternary, either int8 (ITernaryOps.TernaryInt8Matmul), the canonical 2-bit
// codes of docs/formats/ternary-packing.md (IPackedTernaryTrainingOps.PackedTernaryInt8Matmul) or the GEMV layout of
// generation's weights (int8 products of 32 rows or more: prefill chunks, CudaBackend.TernaryGemv). CPU twin:
// Ternary.Int8Matmul (managed/Tritter.Cpu/Ops/Ternary.cs); the integer sums are exact, so the two agree bit for bit.
//
// Floor: 2 M N K integer operations on the int8 tensor cores through mma.sync m16n8k32 (Hopper's wgmma is not
// portable to SM_120): ~1300 TOP/s measured by peak.cu on an H100. Bytes are no limit: a 128 x 128 block tile reads
// 128 + 128 / 4 bytes per k for 2 x 128 x 128 operations. Measured at 2048 tokens on an H100: 400-590 TOP/s, 31-45%
// of that peak and 64-79% of PyTorch's bf16 F.linear (wgmma) in the same run (bench/results/nvidia-h100-80gb-hbm3/
// ternary-gemm.md).
//
// Weights: ternary_gemm_layout (or _layout_i8) rewrites the codes once per call (N K / 4 bytes read and written, ~3% of a
// 2048-token product) into the mma layout, so that a lane turns one 32-bit word into its B fragments with a shift and
// a mask each. A code becomes the 2-bit two's complement (01 = +1, 11 = -1), and is placed in the top two bits of a
// byte: the B operand is 64 q, the sums 64 times the true ones (exact while 64 * 127 * K < 2^31) and shifted back.
// Per row n, per 128 weights (a k tile), 8 words ordered [lane t][slab]: word (t, slab) holds in byte i, bit pair j the
// code of weight 64 slab + 16 j + 4 t + i, which is exactly the weight that thread t of an m16n8k32 fragment meets in
// byte i of its B register j (k step j / 2 of the slab, register j % 2). Rows are padded to k tiles with zeros.
//
// Pipeline: block tile BM x BN x 128, warps of (16 MT) x (8 NT), a STAGES-deep cp.async ring of int8 activations
// (rows of 128 bytes, 16-byte chunks XOR-swizzled by row so that ldmatrix.x4 is free of bank conflicts) and layout
// words (rows of 32 bytes, read as one 8-byte load per lane and n tile, conflict-free as 32 lanes cover 256 bytes).
#include "async_copy.cuh"
#include "reduce.cuh"

namespace {
constexpr int kTileK = 128;        // k per pipeline step: two 64-weight slabs of layout words
constexpr int kLayoutRowBytes = 32; // layout bytes per row and k tile

// B register j of a layout word: byte i = 64 q(64 slab + 16 j + 4 t + i).
__device__ __forceinline__ uint32_t weight_fragment(uint32_t word, int j) { return (word << (6 - 2 * j)) & 0xC0C0C0C0u; }

template <int WarpsM, int WarpsN, int MT, int NT>
struct Tile {
    static constexpr int Threads = WarpsM * WarpsN * 32;
    static constexpr int M = WarpsM * MT * 16;
    static constexpr int N = WarpsN * NT * 8;
    static constexpr int ActivationBytes = M * kTileK;
    static constexpr int StageBytes = ActivationBytes + N * kLayoutRowBytes;
};

// Issues the copies of k tile `tile` into `stage`; rows and outputs beyond the matrices, and k beyond K, read as zeros.
template <class T>
__device__ __forceinline__ void load_stage(uint8_t* stage, const int8_t* __restrict__ x, const uint8_t* __restrict__ layout,
                                           int rows, int k, int outputs, int layout_row_bytes, int first_row, int first_out, int tile)
{
    const int k0 = tile * kTileK;
#pragma unroll
    for (int c = threadIdx.x; c < T::M * 8; c += T::Threads) {
        const int row = c >> 3, chunk = c & 7;
        const bool valid = first_row + row < rows && k0 + chunk * 16 < k;
        const int8_t* source = valid ? x + (int64_t)(first_row + row) * k + k0 + chunk * 16 : x;
        copy16(shared_address(stage + row * kTileK + ((chunk ^ (row & 7)) << 4)), source, valid);
    }
    uint8_t* weights = stage + T::ActivationBytes;
#pragma unroll
    for (int c = threadIdx.x; c < T::N * 2; c += T::Threads) {
        const int n = c >> 1, half = c & 1;
        const bool valid = first_out + n < outputs;
        const uint8_t* source = valid ? layout + (int64_t)(first_out + n) * layout_row_bytes + tile * kLayoutRowBytes + half * 16 : layout;
        copy16(shared_address(weights + n * kLayoutRowBytes + half * 16), source, valid);
    }
    commit_copies();
}

// The A fragments of k step `step` (32 bytes) of a stage, one ldmatrix.x4 per m16 tile.
template <class T, int MT>
__device__ __forceinline__ void load_activations(uint32_t (&a)[MT][4], const uint8_t* stage, int warp_row, int lane, int step)
{
#pragma unroll
    for (int i = 0; i < MT; i++) {
        const int row = warp_row + i * 16 + (lane & 15), chunk = step * 2 + (lane >> 4);
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(a[i][0]), "=r"(a[i][1]), "=r"(a[i][2]), "=r"(a[i][3])
                     : "r"(shared_address(stage + row * kTileK + ((chunk ^ (row & 7)) << 4))));
    }
}

// The layout words of a stage for the warp's n tiles: (slab 0, slab 1) of this lane's thread_in_group.
template <class T, int NT>
__device__ __forceinline__ void load_weights(uint2 (&words)[NT], const uint8_t* stage, int warp_col, int group, int thread_in_group)
{
#pragma unroll
    for (int j = 0; j < NT; j++)
        words[j] = *reinterpret_cast<const uint2*>(stage + T::ActivationBytes + (warp_col + j * 8 + group) * kLayoutRowBytes + thread_in_group * 8);
}

// Main loop: fragments are double-buffered in registers, so each k step's shared-memory loads are in flight while the
// previous step's mma run; the next tile's first fragments are loaded during the last step of the current one, after
// the one barrier per tile (which also frees the stage the tile used, refilled at once with tile + Stages).
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
    for (int s = 0; s < Stages; s++) {
        if (s < tiles)
            load_stage<T>(shared + s * T::StageBytes, x, layout, rows, k, outputs, layout_row_bytes, first_row, first_out, s);
        else
            commit_copies();
    }
    wait_copies<Stages - 1>();
    __syncthreads();

    int acc[MT][NT][4] = {};
    uint32_t a[2][MT][4];
    uint2 words[NT], next_words[NT];
    load_activations<T, MT>(a[0], shared, warp_row, lane, 0);
    load_weights<T, NT>(words, shared, warp_col, group, thread_in_group);
    for (int tile = 0; tile < tiles; tile++) {
        const uint8_t* stage = shared + (tile % Stages) * T::StageBytes;
#pragma unroll
        for (int step = 0; step < 4; step++) {
            if (step < 3) {
                load_activations<T, MT>(a[(step + 1) & 1], stage, warp_row, lane, step + 1);
            } else if (tile + 1 < tiles) {
                wait_copies<Stages - 2>();
                __syncthreads();
                if (tile + Stages < tiles)
                    load_stage<T>(shared + (tile % Stages) * T::StageBytes, x, layout, rows, k, outputs, layout_row_bytes, first_row,
                                  first_out, tile + Stages);
                else
                    commit_copies();
                const uint8_t* next = shared + ((tile + 1) % Stages) * T::StageBytes;
                load_activations<T, MT>(a[0], next, warp_row, lane, 0);
                load_weights<T, NT>(next_words, next, warp_col, group, thread_in_group);
            }
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const uint32_t word = (step >> 1) ? words[j].y : words[j].x;
                const uint32_t b0 = weight_fragment(word, (step & 1) * 2), b1 = weight_fragment(word, (step & 1) * 2 + 1);
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                                 : "+r"(acc[i][j][0]), "+r"(acc[i][j][1]), "+r"(acc[i][j][2]), "+r"(acc[i][j][3])
                                 : "r"(a[step & 1][i][0]), "r"(a[step & 1][i][1]), "r"(a[step & 1][i][2]), "r"(a[step & 1][i][3]),
                                   "r"(b0), "r"(b1));
                }
            }
        }
#pragma unroll
        for (int j = 0; j < NT; j++) words[j] = next_words[j];
    }
    wait_copies<0>();

    float scales[NT][2], biases[NT][2];
#pragma unroll
    for (int j = 0; j < NT; j++) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const int n = min(first_out + warp_col + j * 8 + thread_in_group * 2 + e, outputs - 1);
            scales[j][e] = scale[per_row_scale ? n : 0];
            biases[j][e] = bias != nullptr ? bias[n] : 0.0f;
        }
    }
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
                    if (n < outputs)
                        output[(int64_t)m * outputs + n] =
                            __fadd_rn(__fmul_rn(__int2float_rn(acc[i][j][half * 2 + e] >> 6), __fmul_rn(scales[j][e], s_m)), biases[j][e]);
                }
            }
        }
    }
}
}

// One thread per (row n, k tile): the eight canonical words of the tile (zeros beyond the row) become its eight layout
// words. Per slab, 00 / 01 / 10 -> 00 / 01 / 11; then word t gathers byte t of the four canonical words (a 4 x 4 byte
// transpose) and transposes its 4 x 4 bit pairs (two delta swaps), so that byte i, pair j holds weight 16 j + 4 t + i.
__device__ __forceinline__ uint32_t transpose_pairs(uint32_t x)
{
    uint32_t t = ((x >> 12) ^ x) & 0x0000F0F0u;
    x ^= t ^ (t << 12);
    t = ((x >> 6) ^ x) & 0x00CC00CCu;
    return x ^ t ^ (t << 6);
}

__device__ __forceinline__ void slab_words(uint4 w, uint32_t (&out)[4])
{
    uint32_t v[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int j = 0; j < 4; j++) v[j] |= (v[j] & 0xAAAAAAAAu) >> 1;
    const uint32_t low01 = __byte_perm(v[0], v[1], 0x5140), high01 = __byte_perm(v[0], v[1], 0x7362);
    const uint32_t low23 = __byte_perm(v[2], v[3], 0x5140), high23 = __byte_perm(v[2], v[3], 0x7362);
    out[0] = transpose_pairs(__byte_perm(low01, low23, 0x5410));
    out[1] = transpose_pairs(__byte_perm(low01, low23, 0x7632));
    out[2] = transpose_pairs(__byte_perm(high01, high23, 0x5410));
    out[3] = transpose_pairs(__byte_perm(high01, high23, 0x7632));
}

// Four canonical words of a slab (rows hold a multiple of 4 words, so a slab is all there or all beyond the row).
__device__ __forceinline__ uint4 slab_load(const uint32_t* words, bool present, bool vector)
{
    if (!present) return make_uint4(0u, 0u, 0u, 0u);
    return vector ? *reinterpret_cast<const uint4*>(words) : make_uint4(words[0], words[1], words[2], words[3]);
}

TRITTER_KERNEL void ternary_gemm_layout(const uint32_t* __restrict__ canonical, int canonical_words_per_row, int outputs, int tiles,
                                        uint32_t* __restrict__ layout)
{
    const int64_t count = (int64_t)outputs * tiles;
    const bool vector = aligned16(canonical);
    for (int64_t index = global_thread(); index < count; index += grid_threads()) {
        const int n = (int)(index / tiles), tile = (int)(index - (int64_t)n * tiles);
        const uint32_t* row = canonical + (int64_t)n * canonical_words_per_row + tile * 8;
        uint32_t slab0[4], slab1[4];
        slab_words(slab_load(row, tile * 8 < canonical_words_per_row, vector), slab0);
        slab_words(slab_load(row + 4, tile * 8 + 4 < canonical_words_per_row, vector), slab1);
        uint4* out = reinterpret_cast<uint4*>(layout + index * 8);
        out[0] = make_uint4(slab0[0], slab1[0], slab0[1], slab1[1]);
        out[1] = make_uint4(slab0[2], slab1[2], slab0[3], slab1[3]);
    }
}

// As ternary_gemm_layout, from int8 codes q [N, K]: byte & 3 is already the 2-bit two's complement of -1, 0 and +1, and
// four consecutive codes (a 4-byte group g of the tile) land in byte i of layout word (t = g % 4, slab = g / 16) at bit
// pair j = (g / 4) % 4.
TRITTER_KERNEL void ternary_gemm_layout_i8(const int8_t* __restrict__ q, int k, int outputs, int tiles, uint32_t* __restrict__ layout)
{
    const int64_t count = (int64_t)outputs * tiles;
    const bool vector = (k & 15) == 0 && aligned16(q);
    for (int64_t index = global_thread(); index < count; index += grid_threads()) {
        const int n = (int)(index / tiles), tile = (int)(index - (int64_t)n * tiles);
        const int8_t* row = q + (int64_t)n * k;
        uint32_t words[8] = {};
#pragma unroll
        for (int c = 0; c < 8; c++) {
            const int k0 = tile * kTileK + c * 16;
            uint32_t u[4] = {0u, 0u, 0u, 0u};
            if (vector) {
                if (k0 < k) {
                    const uint4 v = *reinterpret_cast<const uint4*>(row + k0);
                    u[0] = v.x; u[1] = v.y; u[2] = v.z; u[3] = v.w;
                }
            } else {
                for (int b = 0; b < 16 && k0 + b < k; b++) u[b >> 2] |= (uint32_t)(uint8_t)row[k0 + b] << ((b & 3) * 8);
            }
#pragma unroll
            for (int g = 0; g < 4; g++) words[g * 2 + (c >> 2)] |= (u[g] & 0x03030303u) << (2 * (c & 3));
        }
        uint4* out = reinterpret_cast<uint4*>(layout + index * 8);
        out[0] = make_uint4(words[0], words[1], words[2], words[3]);
        out[1] = make_uint4(words[4], words[5], words[6], words[7]);
    }
}

// As ternary_gemm_layout, from the GEMV layout of kernels/ternary_gemv.cu (words_per_row words a row, word w holding
// weight 16 w + 4 p + i in byte i, bit pair p, as c = q + 1): prefill chunks of generation run this GEMM on weights
// arranged once for the GEMV. Layout word (t, slab), byte i, pair j is weight 64 slab + 16 j + 4 t + i: GEMV word
// 4 slab + j of the tile, byte i, pair t; (c + 3) & 3 is the 2-bit two's complement of q. Words beyond the row are q = 0.
TRITTER_KERNEL void ternary_gemm_layout_gemv(const uint32_t* __restrict__ gemv, int words_per_row, int outputs, int tiles,
                                             uint32_t* __restrict__ layout)
{
    const int64_t count = (int64_t)outputs * tiles;
    for (int64_t index = global_thread(); index < count; index += grid_threads()) {
        const int n = (int)(index / tiles), tile = (int)(index - (int64_t)n * tiles);
        const uint32_t* row = gemv + (int64_t)n * words_per_row + tile * 8;
        uint32_t source[8];
#pragma unroll
        for (int w = 0; w < 8; w++) source[w] = tile * 8 + w < words_per_row ? row[w] : 0x55555555u;
        uint32_t words[8];
#pragma unroll
        for (int t = 0; t < 4; t++)
#pragma unroll
            for (int slab = 0; slab < 2; slab++) {
                uint32_t word = 0;
#pragma unroll
                for (int j = 0; j < 4; j++)
#pragma unroll
                    for (int i = 0; i < 4; i++) word |= (((source[4 * slab + j] >> (8 * i + 2 * t)) + 3u) & 3u) << (8 * i + 2 * j);
                words[2 * t + slab] = word;
            }
        uint4* out = reinterpret_cast<uint4*>(layout + index * 8);
        out[0] = make_uint4(words[0], words[1], words[2], words[3]);
        out[1] = make_uint4(words[4], words[5], words[6], words[7]);
    }
}

// Float32 activations through the int8 GEMM (reference-scheme prefill): per row, v = x 127 / max|x| is written as three
// int8 digits, v = d1 + d2 / 254 + d3 / 254^2 (each |d| <= 127: a remainder is at most 1/2, times 254), rows
// [digit][m] of xq [3 M, k_padded] with row_scale[digit M + m] = max|x| / 127 / 254^digit. The weights are exact, the
// integer sums exact, so the three products carry x to within 2^-24 of max|x| (float32's own rounding of x), and
// ternary_gemm_sum_digits adds them. One block per row; an all-zero row gives zero digits and a zero scale.
TRITTER_KERNEL void ternary_gemm_split_rows_i8(const float* __restrict__ x, int rows, int k, int k_padded, int8_t* __restrict__ xq,
                                               float* __restrict__ row_scale)
{
    __shared__ float peaks[32];
    const int m = blockIdx.x;
    const float* row = x + (int64_t)m * k;
    float peak = 0.0f;
    for (int i = threadIdx.x; i < k; i += blockDim.x) peak = fmaxf(peak, fabsf(row[i]));
    peak = block_max(peak, peaks);
    const float inv = peak > 0.0f ? 127.0f / peak : 0.0f;
    int8_t* d1 = xq + (int64_t)m * k_padded;
    int8_t* d2 = d1 + (int64_t)rows * k_padded;
    int8_t* d3 = d2 + (int64_t)rows * k_padded;
    for (int i = threadIdx.x; i < k_padded; i += blockDim.x) {
        const float v = i < k ? row[i] * inv : 0.0f;
        const float a = fminf(fmaxf(rintf(v), -127.0f), 127.0f);
        const float r = (v - a) * 254.0f;
        const float b = fminf(fmaxf(rintf(r), -127.0f), 127.0f);
        const float c = fminf(fmaxf(rintf((r - b) * 254.0f), -127.0f), 127.0f);
        d1[i] = (int8_t)a;
        d2[i] = (int8_t)b;
        d3[i] = (int8_t)c;
    }
    if (threadIdx.x == 0) {
        const float s = peak / 127.0f;
        row_scale[m] = s;
        row_scale[rows + m] = s / 254.0f;
        row_scale[2 * rows + m] = s / (254.0f * 254.0f);
    }
}

// y[i] = (d3 + d2) + d1 + bias over the three digit products [3, M, N] (smallest first), i over M N.
TRITTER_KERNEL void ternary_gemm_sum_digits(const float* __restrict__ products, const float* __restrict__ bias, float* __restrict__ y,
                                            int64_t count, int outputs)
{
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const float v = __fadd_rn(__fadd_rn(products[2 * count + i], products[count + i]), products[i]);
        y[i] = bias != nullptr ? __fadd_rn(v, bias[i % outputs]) : v;
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

// Block tiles (KernelLaunch.TernaryGemmShapes): 128 rows by 128, 112, 96 or 80 outputs, 4 warps of 64 x 8 NT, two
// blocks per SM (206 registers a thread at most, 80 KiB of shared memory a block), so that one block's epilogue and
// prologue overlap the other's main loop; the widths let the launch pick a grid whose last wave leaves little of the
// GPU idle. 8-warp tiles of 128 x 160..256 at one block per SM measured 10-25% slower on every 2048-token shape.
#define TERNARY_GEMM(NAME, WM, WN, MT, NT, STAGES, BLOCKS)                                                                           \
    TRITTER_KERNEL void __launch_bounds__(WM * WN * 32, BLOCKS) NAME(const int8_t* __restrict__ x, const float* __restrict__ row_scale, \
        const uint8_t* __restrict__ layout, const float* __restrict__ scale, int per_row_scale, const float* __restrict__ bias,      \
        float* __restrict__ output, int rows, int k, int outputs)                                                                    \
    {                                                                                                                                \
        gemm<WM, WN, MT, NT, STAGES>(x, row_scale, layout, scale, per_row_scale, bias, output, rows, k, outputs);                   \
    }

TERNARY_GEMM(ternary_gemm_128x128, 2, 2, 4, 8, 4, 2)
TERNARY_GEMM(ternary_gemm_128x112, 2, 2, 4, 7, 4, 2)
TERNARY_GEMM(ternary_gemm_128x96, 2, 2, 4, 6, 4, 2)
TERNARY_GEMM(ternary_gemm_128x80, 2, 2, 4, 5, 4, 2)
