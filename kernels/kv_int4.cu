// INT4 KV-cache: quantise-on-write and flash-decoding attention of one new token (or of a prefill chunk's tokens, one
// grid layer each). CPU twin:
// managed/Tritter.Cpu/Ops/KvInt4.cs; format: docs/formats/kv-cache-int4.md.
//
// Layout per layer (structure of arrays): data [kvHeads][capacity][D/2] bytes (element 2j in the low nibble of byte j,
// stored as q + 8), scales [kvHeads][capacity][D/32] fp16, for K and for V. Capacity is a multiple of 16, so every
// plane of scales is 16-byte aligned.
//
// Floor of decode attention (numHeads H, kvHeads Hk, group G = H/Hk, length L): it must read every cached byte once,
// L * Hk * (D + D/8) bytes for K and V together (144 bytes per position and KV head at D = 128). At 32/8 heads,
// D = 128 that is 37.7 MB at L = 32K and 151 MB at 128K; at 75% of an H100's copy bandwidth (2.97 TB/s measured) 17 us
// and 68 us. Achieved: see the end of this header.
//
// Why tensor cores: the work is 4 * L * H * D flops, 28 per byte at G = 4, so at the bandwidth limit float32 FMAs alone
// would take ~55% of an H100's FP32 issue rate, before any dequantisation; the previous FMA kernel reached 19-25% of
// copy bandwidth. Here QK and PV are fp16 mma.sync (m16n8k16, float32 accumulate) on exact codes, and the query group
// (up to 8 heads) fills rows 0..7 of the m16 tile while rows 8..15 carry the low fp16 halves of the same operand
// (q = hi + lo, p * scale = hi + lo): one mma gives float32-level accuracy at no extra tensor work.
//
// Decode design (flash-decoding): grid (kvHead, split), block of 4 warps; each warp streams every fourth step of 16
// positions of the split through its own 4-stage cp.async pipeline (16-byte copies, ~7 KB in flight per warp, no block
// barriers in the loop), so K and V are read from DRAM once for the whole query group (GQA). Per step and warp:
//   - K: ldmatrix gives lane (row, col) bytes 4col..4col+3 of each 32-value group of position `row`: an mma B fragment.
//     One LOP3 per 2 nibbles puts them in the mantissa of 1024 (fp16), one HADD2/HFMA2 per 2 makes them exact n - 8.
//     One mma pair per (8 positions, scale group); the group's fp16 scale is applied to the float32 result.
//   - online softmax in log2 units (q carries log2(e)/sqrt(D)); the running max is raised whenever a step exceeds it, so
//     p <= 1 and p * value scale fits fp16.
//   - V: ldmatrix.trans gives lane (row, col) the nibbles of dims 4row..4row+3 of positions 2col, 2col+1: the B fragment
//     of P V, dequantised the same way; P with the value scale folded in (per group) is the A fragment.
// Stages are swizzled (16-byte chunk c of row r at c ^ swizzle(r)) so that every ldmatrix is free of bank conflicts.
// The block merges its warps and writes (max, sum, acc[D]) per (query head, split) in log2 units; the last block of
// each KV head to finish (atomic ticket, counters reset by that block) merges the splits: one launch per decode step.
//
// Measured (H100 80GB HBM3, 32/8 heads, D = 128, caches rotated past L2, one event pair per call; bench/results/
// nvidia-h100-80gb-hbm3/2026-11-23-decode-attention-sweep.md): 31.0 us at 32K (1.22 TB/s on the floor, 41% of copy
// bandwidth), 92.7 us at 128K (1.63 TB/s, 55%); SDPA on a bf16 cache of the same shape 75-84 / 207-215 us. A single
// call carries a ~7 us host-launch floor; without it ~24 and ~86 us, ~61% of copy bandwidth at the margin. The goal
// (75%, 3x SDPA) is not reached yet.
#include "kv_int4.cuh"

namespace {

constexpr float kEmptyMax = -1e30f;  // finite, so exp2(kEmptyMax - m) is 0 and never NaN

// ---------------------------------------------------------------------------------------------------------------
// Write: one warp per (token, kv head, K or V) row (kv_int4.cuh).

template <int D>
__device__ __forceinline__ void write_rows(const float* __restrict__ keys, const float* __restrict__ values, int tokens, int kvHeads,
    int capacity, int firstSlot, uint8_t* __restrict__ kData, __half* __restrict__ kScales, uint8_t* __restrict__ vData, __half* __restrict__ vScales)
{
    const int64_t warp = global_thread() >> 5;
    const int64_t rows = (int64_t)tokens * kvHeads;
    if (warp >= 2 * rows) return;
    const bool value = warp >= rows;
    const int64_t row = value ? warp - rows : warp;
    const int64_t slot = (row % kvHeads) * capacity + firstSlot + row / kvHeads;
    float x[D / 32];
    kv_int4_load_lane<D>((value ? values : keys) + row * D, x);
    kv_int4_store_row<D>(x, slot, value ? vData : kData, value ? vScales : kScales);
}

// ---------------------------------------------------------------------------------------------------------------
// Decode attention.

constexpr int kStep = 16;         // positions per warp step: two QK n-tiles of 8, one PV k-chunk of 16
constexpr int kDecodeWarps = 4;   // warps per block, each streaming every fourth step of the block's split
constexpr int kStages = 4;        // cp.async stages per warp
constexpr int kMaxGroup = 8;      // query heads per KV head: rows 0..7 of an m16 tile; rows 8..15 carry the low halves
constexpr int kMinBlocks = 3;    // resident blocks per SM the registers are capped for (155 at sm_90, no spills)

template <int D>
struct Decode {
    static constexpr int kChunks = D / kGroup;   // 16-byte chunks of a row of nibbles, one per scale group
    static constexpr int kRowBytes = D / 2;
    static constexpr int kDataBytes = kStep * kRowBytes;
    static constexpr int kScaleBytes = kStep * kChunks * 2;
    static constexpr int kStageBytes = 2 * kDataBytes + 2 * kScaleBytes;
    static constexpr int kPipelineBytes = kDecodeWarps * kStages * kStageBytes;
    static constexpr int kMergeBytes = kDecodeWarps * kMaxGroup * (D + 2) * 4;
    static constexpr int kSharedBytes = kPipelineBytes > kMergeBytes ? kPipelineBytes : kMergeBytes;
    static_assert(kSharedBytes <= 48 * 1024, "static shared memory");
};

__device__ __forceinline__ void cp_async16(void* shared, const void* global, bool valid)
{
    const unsigned address = (unsigned)__cvta_generic_to_shared(shared);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(global), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

// Rows of a stage are 16-byte chunks; chunk c of row r is stored at c ^ swizzle(r) so that the 8 rows an ldmatrix
// reads at one chunk index fall in 8 different bank quads (rows are 64, 32 or 16 bytes apart).
template <int C> __device__ __forceinline__ int swizzle(int row) { return (row * C / 8) % C; }

// Copies one warp step (16 positions) of K and V nibbles and scales into a stage; positions at or past `end` are
// zero-filled (no read). A 16-byte chunk of scales spans 8/C positions and is read when its first is valid: capacity is
// a multiple of 16, so the chunk stays inside the allocation; the scales of invalid positions are never used.
template <int D>
__device__ __forceinline__ void load_step(uint8_t* stage, const uint8_t* kData, const __half* kScales, const uint8_t* vData,
    const __half* vScales, int first, int end, int lane)
{
    using P = Decode<D>;
    constexpr int C = P::kChunks;
    constexpr int kDataChunks = kStep * C;
    constexpr int kScaleChunks = P::kScaleBytes / 16;
    constexpr int kAll = 2 * kDataChunks + 2 * kScaleChunks;
#pragma unroll
    for (int c = lane; c < kAll; c += 32) {
        if (c < 2 * kDataChunks) {
            const bool value = c >= kDataChunks;
            const int chunk = value ? c - kDataChunks : c;
            const int row = chunk / C, column = chunk % C;
            const uint8_t* source = (value ? vData : kData) + (int64_t)(first + row) * P::kRowBytes + column * 16;
            cp_async16(stage + (value ? P::kDataBytes : 0) + row * P::kRowBytes + (column ^ swizzle<C>(row)) * 16, source, first + row < end);
        } else {
            const bool value = c >= 2 * kDataChunks + kScaleChunks;
            const int chunk = c - 2 * kDataChunks - (value ? kScaleChunks : 0);
            const uint8_t* source = reinterpret_cast<const uint8_t*>((value ? vScales : kScales) + (int64_t)first * C) + chunk * 16;
            cp_async16(stage + 2 * P::kDataBytes + (value ? P::kScaleBytes : 0) + chunk * 16, source, first + chunk * 8 / C < end);
        }
    }
}

template <bool Trans> __device__ __forceinline__ void ldmatrix4(uint32_t* r, const void* p)
{
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    if constexpr (Trans)
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}
template <bool Trans> __device__ __forceinline__ void ldmatrix2(uint32_t* r, const void* p)
{
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    if constexpr (Trans)
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
}

// The 2C 8x8 b16 matrices of a step's K (Trans false: matrix nt * C + g is positions 8nt..8nt+7 of group g, so lane
// (row, col) gets bytes 4col..4col+3 of group g of position 8nt + row: an mma B fragment) or V (Trans true: matrix
// 2g + h is positions 8h..8h+7 of group g transposed, so lane (row, col) gets nibbles 4row..4row+3 of positions 2col
// and 2col + 1 of 8h..: the B fragment of P V).
template <int D, bool Trans>
__device__ __forceinline__ void load_fragments(uint32_t (&r)[2 * D / kGroup], const uint8_t* tile, int lane)
{
    constexpr int C = D / kGroup, M = 2 * C;
    const auto address = [&](int m) {
        const int nt = Trans ? m % 2 : m / C, group = Trans ? m / 2 : m % C;
        const int row = nt * 8 + lane % 8;
        return tile + row * (D / 2) + (group ^ swizzle<C>(row)) * 16;
    };
    if constexpr (M >= 4) {
#pragma unroll
        for (int j = 0; j < M / 4; j++) ldmatrix4<Trans>(r + 4 * j, address(4 * j + lane / 8));
    } else {
        ldmatrix2<Trans>(r, address((lane / 8) % 2));
    }
}

__device__ __forceinline__ uint32_t lop3_and_or(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t d;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

// The four nibbles at bits 0, 4, 8, 12 of both 16-bit halves of w, as half2 (low half, high half) of the exact integers
// nibble - 8: the nibble goes into the mantissa of 1024 (0x6400) by one LOP3, and one HSUB2 or HFMA2 removes 1032.
__device__ __forceinline__ void dequant(uint32_t w, uint32_t (&h)[4])
{
    const uint32_t w8 = w >> 8;
    const uint32_t low = 0x000F000Fu, high = 0x00F000F0u, magic = 0x64006400u;
    h[0] = lop3_and_or(w, low, magic);
    h[1] = lop3_and_or(w, high, magic);
    h[2] = lop3_and_or(w8, low, magic);
    h[3] = lop3_and_or(w8, high, magic);
    const uint32_t minus1032 = 0xE408E408u, sixteenth = 0x2C002C00u, minus72 = 0xD480D480u;
    asm("add.f16x2 %0, %0, %1;\n" : "+r"(h[0]) : "r"(minus1032));
    asm("fma.rn.f16x2 %0, %0, %1, %2;\n" : "+r"(h[1]) : "r"(sixteenth), "r"(minus72));
    asm("add.f16x2 %0, %0, %1;\n" : "+r"(h[2]) : "r"(minus1032));
    asm("fma.rn.f16x2 %0, %0, %1, %2;\n" : "+r"(h[3]) : "r"(sixteenth), "r"(minus72));
}

// x and y as half2 hi (x low) and the half2 of what hi misses: hi + lo carries 22 bits of each, so an fp16 mma on
// exact integer codes keeps float32-level accuracy at the cost of the m16 rows a query group does not fill anyway.
__device__ __forceinline__ void split2(float x, float y, uint32_t& hi, uint32_t& lo)
{
    const __half2 h = __floats2half2_rn(x, y);
    const float2 back = __half22float2(h);
    const __half2 l = __floats2half2_rn(x - back.x, y - back.y);
    hi = *reinterpret_cast<const uint32_t*>(&h);
    lo = *reinterpret_cast<const uint32_t*>(&l);
}

__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The C scales of positions `position` and `position + 1` (s[j][g]) from a stage's plane of scales.
template <int C>
__device__ __forceinline__ void load_scales(const uint8_t* plane, int position, float (&s)[2][C])
{
    uint32_t u[C];
    const uint8_t* p = plane + position * C * 2;
    if constexpr (C == 4) {
        const uint4 v = *reinterpret_cast<const uint4*>(p);
        u[0] = v.x; u[1] = v.y; u[2] = v.z; u[3] = v.w;
    } else if constexpr (C == 2) {
        const uint2 v = *reinterpret_cast<const uint2*>(p);
        u[0] = v.x; u[1] = v.y;
    } else {
        u[0] = *reinterpret_cast<const uint32_t*>(p);
    }
#pragma unroll
    for (int k = 0; k < 2 * C; k++) {
        const uint32_t bits = k % 2 == 0 ? u[k / 2] & 0xFFFFu : u[k / 2] >> 16;
        s[k / C][k % C] = __half2float(__ushort_as_half((unsigned short)bits));
    }
}

template <int D, int G>
__device__ __forceinline__ void decode(const float* __restrict__ query, const uint8_t* __restrict__ kData, const __half* __restrict__ kScales,
    const uint8_t* __restrict__ vData, const __half* __restrict__ vScales, int capacity, int length, int splitSize,
    float* __restrict__ partialAcc, float* __restrict__ partialMax, float* __restrict__ partialSum, unsigned* __restrict__ counters,
    float* __restrict__ output)
{
    using P = Decode<D>;
    constexpr int C = P::kChunks;
    static_assert(G == 1 || G == 2 || G == 4 || G == 8, "group size 1, 2, 4 or 8");
    __shared__ __align__(16) uint8_t shared[P::kSharedBytes];
    __shared__ bool lastBlock;

    const int kvHead = blockIdx.x, split = blockIdx.y, splits = gridDim.y;
    const int start = split * splitSize;
    const int end = min(start + splitSize, length);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = lane >> 2, col = lane & 3;   // mma fragment row (query head) and column pair
    const int steps = max(0, (end - start - warp * kStep + kDecodeWarps * kStep - 1) / (kDecodeWarps * kStep));

    kData += (int64_t)kvHead * capacity * (D / 2);
    vData += (int64_t)kvHead * capacity * (D / 2);
    kScales += (int64_t)kvHead * capacity * C;
    vScales += (int64_t)kvHead * capacity * C;
    uint8_t* pipeline = shared + warp * kStages * P::kStageBytes;
    const auto stepFirst = [&](int i) { return start + (warp + kDecodeWarps * i) * kStep; };

#pragma unroll
    for (int s = 0; s < kStages - 1; s++) {
        if (s < steps) load_step<D>(pipeline + s * P::kStageBytes, kData, kScales, vData, vScales, stepFirst(s), end, lane);
        cp_async_commit();
    }

    // A fragments of q in log2 units: row g is head g's high half, row g + 8 its low half. Group gr, k-chunk 0 pairs
    // dims (8col, 8col+4) and (8col+1, 8col+5) of the group, k-chunk 1 (8col+2, 8col+6) and (8col+3, 8col+7), the order
    // in which dequant unpacks a K fragment.
    uint32_t qa[2 * C][4];
    {
        const float qScale = 1.4426950408889634f * rsqrtf((float)D);
#pragma unroll
        for (int gr = 0; gr < C; gr++) {
            float q[8] = {};
            if (g < G) {
                const float4* q4 = reinterpret_cast<const float4*>(query + (int64_t)(kvHead * G + g) * D + gr * kGroup + col * 8);
                const float4 a = __ldg(q4), b = __ldg(q4 + 1);
                q[0] = a.x; q[1] = a.y; q[2] = a.z; q[3] = a.w; q[4] = b.x; q[5] = b.y; q[6] = b.z; q[7] = b.w;
            }
#pragma unroll
            for (int i = 0; i < 4; i++) split2(q[i] * qScale, q[i + 4] * qScale, qa[2 * gr + i / 2][2 * (i % 2)], qa[2 * gr + i / 2][2 * (i % 2) + 1]);
        }
    }

    // acc[gr][e]: C fragment of P V for dims gr * 32 + 4n + e (n = 2col, 2col + 1); rows g and g + 8 both hold head g.
    float acc[C][4][4] = {};
    float runningMax = kEmptyMax, sum = 0.0f;

#pragma unroll 1
    for (int i = 0; i < steps; i++) {
        cp_async_wait<kStages - 2>();
        __syncwarp();
        if (i + kStages - 1 < steps)
            load_step<D>(pipeline + ((i + kStages - 1) % kStages) * P::kStageBytes, kData, kScales, vData, vScales, stepFirst(i + kStages - 1), end, lane);
        cp_async_commit();

        const uint8_t* stage = pipeline + (i % kStages) * P::kStageBytes;
        const int first = stepFirst(i);
        uint32_t kw[2 * C];
        load_fragments<D, false>(kw, stage, lane);
        float ks[2][2][C], vs[2][2][C];
#pragma unroll
        for (int nt = 0; nt < 2; nt++) {
            load_scales<C>(stage + 2 * P::kDataBytes, nt * 8 + 2 * col, ks[nt]);
            load_scales<C>(stage + 2 * P::kDataBytes + P::kScaleBytes, nt * 8 + 2 * col, vs[nt]);
        }

        // Scores of head g at positions 8nt + 2col + j: one mma pair per (n-tile, group), scaled per group in float32.
        float s[2][2];
        bool valid[2][2];
        float stepMax = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < 2; nt++) {
            s[nt][0] = 0.0f; s[nt][1] = 0.0f;
#pragma unroll
            for (int gr = 0; gr < C; gr++) {
                uint32_t h[4];
                dequant(kw[nt * C + gr], h);
                float c[4] = {};
                mma(c, qa[2 * gr], h[0], h[1]);
                mma(c, qa[2 * gr + 1], h[2], h[3]);
                s[nt][0] = fmaf(ks[nt][0][gr], c[0] + c[2], s[nt][0]);
                s[nt][1] = fmaf(ks[nt][1][gr], c[1] + c[3], s[nt][1]);
            }
#pragma unroll
            for (int j = 0; j < 2; j++) {
                valid[nt][j] = first + nt * 8 + 2 * col + j < end;
                s[nt][j] = valid[nt][j] ? s[nt][j] : -INFINITY;   // a masked position's scale may be garbage: select
                stepMax = fmaxf(stepMax, s[nt][j]);
            }
        }
        stepMax = fmaxf(stepMax, __shfl_xor_sync(0xffffffffu, stepMax, 1));
        stepMax = fmaxf(stepMax, __shfl_xor_sync(0xffffffffu, stepMax, 2));
        if (stepMax > runningMax) {   // uniform over the 4 lanes of head g, which own all of its accumulators
            const float c = exp2f(runningMax - stepMax);
            runningMax = stepMax;
            sum *= c;
#pragma unroll
            for (int gr = 0; gr < C; gr++)
#pragma unroll
                for (int e = 0; e < 4; e++)
#pragma unroll
                    for (int k = 0; k < 4; k++) acc[gr][e][k] *= c;
        }
        float p[2][2];
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int j = 0; j < 2; j++) {
                p[nt][j] = exp2f(s[nt][j] - runningMax);
                sum += p[nt][j];
            }

        // P V with the value scales folded into P (p <= 1, so p * scale fits fp16), one A fragment per group.
        uint32_t vw[2 * C];
        load_fragments<D, true>(vw, stage + P::kDataBytes, lane);
#pragma unroll
        for (int gr = 0; gr < C; gr++) {
            float w[2][2];
#pragma unroll
            for (int nt = 0; nt < 2; nt++)
#pragma unroll
                for (int j = 0; j < 2; j++) w[nt][j] = valid[nt][j] ? p[nt][j] * vs[nt][j][gr] : 0.0f;
            uint32_t a[4];
            split2(w[0][0], w[0][1], a[0], a[1]);
            split2(w[1][0], w[1][1], a[2], a[3]);
            uint32_t b0[4], b1[4];
            dequant(vw[2 * gr], b0);
            dequant(vw[2 * gr + 1], b1);
#pragma unroll
            for (int e = 0; e < 4; e++) mma(acc[gr][e], a, b0[e], b1[e]);
        }
    }

    // Merge the 4 lanes of each head, then the warps through shared memory, into this split's (max, sum, acc[D]).
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    cp_async_wait<0>();
    __syncthreads();
    float* mergeAcc = reinterpret_cast<float*>(shared);   // [warp][G][D]
    float* mergeMax = mergeAcc + kDecodeWarps * G * D;    // [warp][G]
    float* mergeSum = mergeMax + kDecodeWarps * G;        // [warp][G]
    if (g < G) {
        float* row = mergeAcc + (warp * G + g) * D + col * 8;
#pragma unroll
        for (int gr = 0; gr < C; gr++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                row[gr * kGroup + e] = acc[gr][e][0] + acc[gr][e][2];
                row[gr * kGroup + 4 + e] = acc[gr][e][1] + acc[gr][e][3];
            }
        if (col == 0) {
            mergeMax[warp * G + g] = runningMax;
            mergeSum[warp * G + g] = sum;
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < G * D; i += kDecodeWarps * 32) {
        const int head = i / D, d = i % D;
        float m = kEmptyMax;
#pragma unroll
        for (int w = 0; w < kDecodeWarps; w++) m = fmaxf(m, mergeMax[w * G + head]);
        float a = 0.0f, l = 0.0f;
#pragma unroll
        for (int w = 0; w < kDecodeWarps; w++) {
            const float c = exp2f(mergeMax[w * G + head] - m);
            a = fmaf(c, mergeAcc[(w * G + head) * D + d], a);
            l = fmaf(c, mergeSum[w * G + head], l);
        }
        const int64_t partial = (int64_t)(kvHead * G + head) * splits + split;
        partialAcc[partial * D + d] = a;
        if (d == 0) {
            partialMax[partial] = m;
            partialSum[partial] = l;
        }
    }

    // The last block of this KV head to finish merges all splits of its G query heads (no second launch): partials
    // are made visible before the ticket is taken, and read back from L2 (ld.cg) after it.
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) lastBlock = atomicAdd(counters + kvHead, 1u) == (unsigned)splits - 1;
    __syncthreads();
    if (!lastBlock) return;
    __threadfence();
    if (threadIdx.x == 0) counters[kvHead] = 0;   // ready for the next launch on the stream
    for (int i = threadIdx.x; i < G * D / 4; i += kDecodeWarps * 32) {
        const int head = i / (D / 4), quad = i % (D / 4);
        const int64_t base = (int64_t)(kvHead * G + head) * splits;
        float m = kEmptyMax, l = 0.0f;
        float4 a = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
        for (int s = 0; s < splits; s++) {
            const float ms = __ldcg(partialMax + base + s), ls = __ldcg(partialSum + base + s);
            const float4 as = __ldcg(reinterpret_cast<const float4*>(partialAcc + (base + s) * D) + quad);
            const float mNew = fmaxf(m, ms);
            const float c = exp2f(m - mNew), w = exp2f(ms - mNew);
            a = make_float4(fmaf(w, as.x, c * a.x), fmaf(w, as.y, c * a.y), fmaf(w, as.z, c * a.z), fmaf(w, as.w, c * a.w));
            l = fmaf(w, ls, c * l);
            m = mNew;
        }
        const float r = 1.0f / l;
        reinterpret_cast<float4*>(output + (int64_t)(kvHead * G + head) * D)[quad] = make_float4(a.x * r, a.y * r, a.z * r, a.w * r);
    }
}

} // namespace

TRITTER_KERNEL void kv_int4_write_d128(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales, const int* stepSlot)
{
    write_rows<128>(keys, values, tokens, kvHeads, capacity, stepSlot != nullptr ? *stepSlot : firstSlot, kData, kScales, vData, vScales);
}

TRITTER_KERNEL void kv_int4_write_d32(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales, const int* stepSlot)
{
    write_rows<32>(keys, values, tokens, kvHeads, capacity, stepSlot != nullptr ? *stepSlot : firstSlot, kData, kScales, vData, vScales);
}

TRITTER_KERNEL void kv_int4_write_d64(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales, const int* stepSlot)
{
    write_rows<64>(keys, values, tokens, kvHeads, capacity, stepSlot != nullptr ? *stepSlot : firstSlot, kData, kScales, vData, vScales);
}

// With stepLength given (a decode step replayed from a graph), the length is read from it and the grid has as many
// splits as any length may use; the split size is derived as the host derives it (KernelLaunch.KvDecode, in units of
// kDecodeWarps * kStep = KvDecodeTile), and the splits past the length write empty partials, which the merge weighs by
// exactly 0. Prefill: grid z is the token, each attending causally over `length` + z positions with its own query and
// output rows, partials and tickets (the host passes the first token's length and sizes the splits for the last's).
#define KV_INT4_DECODE(D, G)                                                                                                  \
    extern "C" __global__ void __launch_bounds__(kDecodeWarps * 32, kMinBlocks) kv_int4_decode_d##D##_g##G(        \
        const float* query, const uint8_t* kData, const __half* kScales, const uint8_t* vData, const __half* vScales,         \
        int capacity, int length, int splitSize, float* partialAcc, float* partialMax, float* partialSum, unsigned* counters, \
        float* output, const int* stepLength)                                                                                 \
    {                                                                                                                         \
        const int64_t token = blockIdx.z, rows = (int64_t)gridDim.x * G;                                                       \
        query += token * rows * D;                                                                                            \
        output += token * rows * D;                                                                                           \
        partialAcc += token * rows * gridDim.y * D;                                                                           \
        partialMax += token * rows * gridDim.y;                                                                               \
        partialSum += token * rows * gridDim.y;                                                                               \
        counters += token * gridDim.x;                                                                                        \
        length += (int)token;                                                                                                 \
        if (stepLength != nullptr) {                                                                                          \
            constexpr int kUnit = kDecodeWarps * kStep;                                                                       \
            length = *stepLength;                                                                                             \
            splitSize = ((length + (int)gridDim.y - 1) / (int)gridDim.y + kUnit - 1) / kUnit * kUnit;                         \
        }                                                                                                                     \
        decode<D, G>(query, kData, kScales, vData, vScales, capacity, length, splitSize, partialAcc, partialMax, partialSum,  \
            counters, output);                                                                                                \
    }
KV_INT4_DECODE(128, 1)
KV_INT4_DECODE(128, 2)
KV_INT4_DECODE(128, 4)
KV_INT4_DECODE(128, 8)
KV_INT4_DECODE(64, 1)
KV_INT4_DECODE(64, 2)
KV_INT4_DECODE(64, 4)
KV_INT4_DECODE(64, 8)
KV_INT4_DECODE(32, 1)
KV_INT4_DECODE(32, 2)
KV_INT4_DECODE(32, 4)
KV_INT4_DECODE(32, 8)
