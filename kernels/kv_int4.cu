// INT4 KV-cache: quantise-on-write and flash-decoding attention of one new token. CPU twin:
// managed/Tritter.Cpu/Ops/KvInt4.cs; format: docs/formats/kv-cache-int4.md.
//
// Layout per layer (structure of arrays): data [kvHeads][capacity][D/2] bytes (element 2j in the low nibble of byte j,
// stored as q + 8), scales [kvHeads][capacity][D/32] fp16, for K and for V. Capacity is a multiple of 16, so every
// plane of scales is 16-byte aligned.
//
// Floor of decode attention (numHeads H, kvHeads Hk, group G = H/Hk, length L): it must read every cached byte once,
// L * Hk * (D + D/8) bytes for K and V together (144 bytes per position and KV head at D = 128), and does
// 4 * L * H * D flops (QK and PV). At 32/8 heads, D = 128, L = 32K that is 37.7 MB and 1.07 GFLOP; at 2.24 TB/s (75% of
// an H100's copy bandwidth) 17 us. The arithmetic intensity, 28 flops per byte at G = 4 before dequantisation, sits
// near the FP32 issue rate of an H100 at that bandwidth, so the inner loops are counted in instructions: each byte
// pair of nibbles becomes floats (1 + e/16) with one PRMT (no I2F, no FADD), the -8 offset and the scale are applied
// once per 16 values, and the softmax rescales lazily (only when the running max grows by more than 2^8).
//
// Decode design: grid (kvHead, split); a block of 4 warps per 4 query heads streams its split of the KV head's
// positions through shared memory in tiles of 64 positions with a 4-stage cp.async pipeline (16-byte copies, bytes
// in flight without registers), so K and V are read from DRAM once for the whole query group (GQA). Each lane owns 16
// consecutive head_dim values of one position (8 lanes per row at D = 128) and keeps q, and the output accumulators,
// for its 16 values of up to 4 heads in registers. Each warp keeps an online softmax; the block merges its warps and
// writes (max, sum, acc[D]) per (query head, split) in log2 units; kv_int4_combine merges the splits.
#include "common.cuh"
#include <cuda_fp16.h>

namespace {

constexpr int kGroup = 32;          // values per scale
constexpr int kTile = 64;           // positions per pipeline stage
constexpr int kRowWarps = 4;        // warps that split a tile's positions
constexpr float kMaxScale = 65504.0f;
constexpr float kLazyRescale = 8.0f; // log2 headroom before the running max must be raised
constexpr float kEmptyMax = -1e30f;  // finite, so exp2(kEmptyMax - m) is 0 and never NaN

// ---------------------------------------------------------------------------------------------------------------
// Write: one warp per (token, kv head, K or V) row. A lane holds D/32 consecutive values; a group of 32 values is
// 32/(D/32) lanes, whose absmax is reduced by shuffles. Same float32 operations as the CPU, so the bytes are equal.

template <int D>
__device__ __forceinline__ void write_row(const float* __restrict__ src, uint8_t* __restrict__ data, __half* __restrict__ scales)
{
    constexpr int kPerLane = D / 32;
    constexpr int kLanesPerGroup = 32 / kPerLane;
    const int lane = threadIdx.x & 31;
    float x[kPerLane];
    if constexpr (kPerLane == 4) {
        const float4 v = __ldg(reinterpret_cast<const float4*>(src) + lane);
        x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w;
    } else if constexpr (kPerLane == 2) {
        const float2 v = __ldg(reinterpret_cast<const float2*>(src) + lane);
        x[0] = v.x; x[1] = v.y;
    } else {
        x[0] = __ldg(src + lane);
    }
    float m = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; i++) m = fmaxf(m, fabsf(x[i]));
#pragma unroll
    for (int o = 1; o < kLanesPerGroup; o <<= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    const __half scale = __float2half_rn(fminf(m / 7.0f, kMaxScale));
    const float s = __half2float(scale);
    uint32_t packed = 0;
#pragma unroll
    for (int i = 0; i < kPerLane; i++) {
        const int q = s == 0.0f ? 8 : (int)fminf(fmaxf(rintf(x[i] / s), -7.0f), 7.0f) + 8;
        packed |= (uint32_t)q << (4 * i);
    }
    if constexpr (kPerLane == 4) {
        reinterpret_cast<uint16_t*>(data)[lane] = (uint16_t)packed;
    } else if constexpr (kPerLane == 2) {
        data[lane] = (uint8_t)packed;
    } else {
        // One nibble per lane: the even lane of each pair writes the byte, its own element in the low nibble.
        const uint32_t odd = __shfl_down_sync(0xffffffffu, packed, 1);
        if ((lane & 1) == 0) data[lane / 2] = (uint8_t)(packed | (odd << 4));
    }
    if (lane % kLanesPerGroup == 0) scales[lane / kLanesPerGroup] = scale;
}

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
    write_row<D>((value ? values : keys) + row * D, (value ? vData : kData) + slot * (D / 2), (value ? vScales : kScales) + slot * (D / kGroup));
}

// ---------------------------------------------------------------------------------------------------------------
// Decode attention.

__device__ __forceinline__ void cp_async16(void* shared, const void* global, bool valid)
{
    const unsigned address = (unsigned)__cvta_generic_to_shared(shared);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(global), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Eight nibbles (4 bytes, elements 0..7) to floats 1 + e/16 in element order: the nibble goes to the top of the
// mantissa of 1.0f by byte selection, exactly, with no conversion instruction.
__device__ __forceinline__ void unpack8(uint32_t w, float* v)
{
    const uint32_t even = ((w << 3) & 0x78787878u) | 0x80808080u;
    const uint32_t odd = ((w >> 1) & 0x78787878u) | 0x80808080u;
#pragma unroll
    for (int b = 0; b < 4; b++) {
        v[2 * b] = __uint_as_float(__byte_perm(even, 0x3F000000u, 0x7044u | (b << 8)));
        v[2 * b + 1] = __uint_as_float(__byte_perm(odd, 0x3F000000u, 0x7044u | (b << 8)));
    }
}

template <int D, int G>
struct Decode {
    static constexpr int kLanesPerRow = D / 16;                 // a lane owns 16 values (8 bytes) of a row
    static constexpr int kRowsPerStep = 32 / kLanesPerRow;
    static constexpr int kSteps = kTile / (kRowWarps * kRowsPerStep);
    static constexpr int kHeadsPerWarp = G < 4 ? G : 4;
    static constexpr int kHeadWarps = G / kHeadsPerWarp;
    static constexpr int kThreads = 32 * kRowWarps * kHeadWarps;
    static constexpr int kStages = 4;
    static constexpr int kDataBytes = kTile * D / 2;
    static constexpr int kScaleBytes = kTile * D / kGroup * 2;
    static constexpr int kStageBytes = 2 * kDataBytes + 2 * kScaleBytes;
    static constexpr int kMergeBytes = (kRowWarps * G * (D + 2)) * 4;
    static constexpr int kSharedBytes = kStages * kStageBytes > kMergeBytes ? kStages * kStageBytes : kMergeBytes;
    static_assert(kSteps * kRowWarps * kRowsPerStep == kTile, "tile must split evenly over warps");
    static_assert(G == 1 || G == 2 || G == 4 || G == 8, "group size 1, 2, 4 or 8");
    static_assert(kSharedBytes <= 48 * 1024, "static shared memory");
};

// Copies positions [tileStart, tileStart + kTile) of K and V data and scales into one stage; positions at or past
// `end` are zero-filled (no read), so a partial tile holds finite values. A 16-byte chunk of scales spans 2 (D = 128),
// 4 (D = 64) or 8 (D = 32) positions and is read when its first position is valid: capacity is a multiple of 16, so the chunk
// stays inside the allocation (at D = 32 a chunk spans 8 positions).
template <int D, int G>
__device__ __forceinline__ void load_tile(uint8_t* stage, const uint8_t* kData, const __half* kScales, const uint8_t* vData,
    const __half* vScales, int tileStart, int end)
{
    using P = Decode<D, G>;
    constexpr int kDataChunks = P::kDataBytes / 16;
    constexpr int kScaleChunks = P::kScaleBytes / 16;
    constexpr int kChunks = 2 * kDataChunks + 2 * kScaleChunks;
    for (int c = threadIdx.x; c < kChunks; c += P::kThreads) {
        const bool value = (c >= kDataChunks && c < 2 * kDataChunks) || c >= 2 * kDataChunks + kScaleChunks;
        if (c < 2 * kDataChunks) {
            const int chunk = value ? c - kDataChunks : c;
            const int position = tileStart + chunk * 16 / (D / 2);
            const uint8_t* source = (value ? vData : kData) + (int64_t)tileStart * (D / 2) + chunk * 16;
            cp_async16(stage + (value ? P::kDataBytes : 0) + chunk * 16, source, position < end);
        } else {
            const int chunk = c - 2 * kDataChunks - (value ? kScaleChunks : 0);
            const int position = tileStart + chunk * 16 / (D / kGroup * 2);
            const uint8_t* source = reinterpret_cast<const uint8_t*>((value ? vScales : kScales) + (int64_t)tileStart * (D / kGroup)) + chunk * 16;
            cp_async16(stage + 2 * P::kDataBytes + (value ? P::kScaleBytes : 0) + chunk * 16, source, position < end);
        }
    }
}

template <int D, int G>
__device__ __forceinline__ void decode(const float* __restrict__ query, const uint8_t* __restrict__ kData, const __half* __restrict__ kScales,
    const uint8_t* __restrict__ vData, const __half* __restrict__ vScales, int capacity, int length, int splitSize,
    float* __restrict__ partialAcc, float* __restrict__ partialMax, float* __restrict__ partialSum)
{
    using P = Decode<D, G>;
    constexpr int H = P::kHeadsPerWarp;
    __shared__ __align__(16) uint8_t shared[P::kSharedBytes];

    const int kvHead = blockIdx.x, split = blockIdx.y, splits = gridDim.y;
    const int start = split * splitSize;
    const int end = min(start + splitSize, length);
    const int tiles = (end - start + kTile - 1) / kTile;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int rowWarp = warp % kRowWarps, headWarp = warp / kRowWarps;
    const int row = lane / P::kLanesPerRow, slice = lane % P::kLanesPerRow;
    const int firstHead = kvHead * G + headWarp * H;   // this warp's first query head

    kData += (int64_t)kvHead * capacity * (D / 2);
    vData += (int64_t)kvHead * capacity * (D / 2);
    kScales += (int64_t)kvHead * capacity * (D / kGroup);
    vScales += (int64_t)kvHead * capacity * (D / kGroup);

#pragma unroll
    for (int s = 0; s < P::kStages - 1; s++) {
        if (s < tiles) load_tile<D, G>(shared + s * P::kStageBytes, kData, kScales, vData, vScales, start + s * kTile, end);
        cp_async_commit();
    }

    // q in log2 units (scores come out ready for exp2), and its sum over this lane's 16 values for the -8 offset.
    const float qScale = 1.4426950408889634f * rsqrtf((float)D);
    float q[H][16], qSum[H];
#pragma unroll
    for (int h = 0; h < H; h++) {
        const float4* q4 = reinterpret_cast<const float4*>(query + (int64_t)(firstHead + h) * D + slice * 16);
        qSum[h] = 0.0f;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float4 v = __ldg(q4 + i);
            q[h][4 * i] = v.x * qScale; q[h][4 * i + 1] = v.y * qScale; q[h][4 * i + 2] = v.z * qScale; q[h][4 * i + 3] = v.w * qScale;
            qSum[h] += q[h][4 * i] + q[h][4 * i + 1] + q[h][4 * i + 2] + q[h][4 * i + 3];
        }
    }

    // Per lane: acc = sum of 16 p s (1 + e/16) over its rows, offset = sum of p s; the true sum is acc - 24 offset.
    float acc[H][16], offset[H], runningMax[H], sum[H];
#pragma unroll
    for (int h = 0; h < H; h++) {
        offset[h] = 0.0f; sum[h] = 0.0f; runningMax[h] = kEmptyMax;
#pragma unroll
        for (int j = 0; j < 16; j++) acc[h][j] = 0.0f;
    }

    for (int t = 0; t < tiles; t++) {
        cp_async_wait<P::kStages - 2>();
        __syncthreads();
        const int next = t + P::kStages - 1;
        if (next < tiles) load_tile<D, G>(shared + (next % P::kStages) * P::kStageBytes, kData, kScales, vData, vScales, start + next * kTile, end);
        cp_async_commit();

        const uint8_t* stage = shared + (t % P::kStages) * P::kStageBytes;
        const __half* kScaleTile = reinterpret_cast<const __half*>(stage + 2 * P::kDataBytes);
        const __half* vScaleTile = reinterpret_cast<const __half*>(stage + 2 * P::kDataBytes + P::kScaleBytes);
#pragma unroll 1
        for (int step = 0; step < P::kSteps; step++) {
            const int r = (rowWarp * P::kSteps + step) * P::kRowsPerStep + row;
            const bool valid = start + t * kTile + r < end;
            float v[16];

            const uint2 kw = *reinterpret_cast<const uint2*>(stage + r * (D / 2) + slice * 8);
            const float ks = __half2float(kScaleTile[r * (D / kGroup) + slice / 2]);
            unpack8(kw.x, v);
            unpack8(kw.y, v + 8);
            float score[H];
#pragma unroll
            for (int h = 0; h < H; h++) {
                float dot = 0.0f;
#pragma unroll
                for (int j = 0; j < 16; j++) dot = fmaf(q[h][j], v[j], dot);
                score[h] = fmaf(16.0f * ks, dot, -24.0f * ks * qSum[h]);
            }
#pragma unroll
            for (int o = 1; o < P::kLanesPerRow; o <<= 1)
#pragma unroll
                for (int h = 0; h < H; h++) score[h] += __shfl_xor_sync(0xffffffffu, score[h], o);

            const uint2 vw = *reinterpret_cast<const uint2*>(stage + P::kDataBytes + r * (D / 2) + slice * 8);
            const float vs = __half2float(vScaleTile[r * (D / kGroup) + slice / 2]);
            unpack8(vw.x, v);
            unpack8(vw.y, v + 8);
#pragma unroll
            for (int h = 0; h < H; h++) {
                const float s = valid ? score[h] : -INFINITY;
                float stepMax = s;
#pragma unroll
                for (int o = P::kLanesPerRow; o < 32; o <<= 1) stepMax = fmaxf(stepMax, __shfl_xor_sync(0xffffffffu, stepMax, o));
                if (stepMax > runningMax[h] + kLazyRescale) {   // warp-uniform: stepMax and runningMax agree across lanes
                    const float c = exp2f(runningMax[h] - stepMax);
                    runningMax[h] = stepMax;
                    sum[h] *= c;
                    offset[h] *= c;
#pragma unroll
                    for (int j = 0; j < 16; j++) acc[h][j] *= c;
                }
                const float p = exp2f(s - runningMax[h]);
                sum[h] += p;
                const float w = valid ? p * vs : 0.0f;           // a masked row's scale may be garbage: select, never multiply
                offset[h] += w;
                const float w16 = 16.0f * w;
#pragma unroll
                for (int j = 0; j < 16; j++) acc[h][j] = fmaf(w16, v[j], acc[h][j]);
            }
        }
    }

    // Merge the rows of the warp (lanes with the same slice), then the row warps through shared memory.
#pragma unroll
    for (int o = P::kLanesPerRow; o < 32; o <<= 1) {
#pragma unroll
        for (int h = 0; h < H; h++) {
            sum[h] += __shfl_xor_sync(0xffffffffu, sum[h], o);
            offset[h] += __shfl_xor_sync(0xffffffffu, offset[h], o);
#pragma unroll
            for (int j = 0; j < 16; j++) acc[h][j] += __shfl_xor_sync(0xffffffffu, acc[h][j], o);
        }
    }
    cp_async_wait<0>();
    __syncthreads();
    float* mergeAcc = reinterpret_cast<float*>(shared);              // [rowWarp][G][D]
    float* mergeMax = mergeAcc + kRowWarps * G * D;                   // [rowWarp][G]
    float* mergeSum = mergeMax + kRowWarps * G;                       // [rowWarp][G]
    if (row == 0) {
#pragma unroll
        for (int h = 0; h < H; h++) {
            const int head = headWarp * H + h;
            float4* out = reinterpret_cast<float4*>(mergeAcc + (rowWarp * G + head) * D + slice * 16);
            const float base = 24.0f * offset[h];
#pragma unroll
            for (int i = 0; i < 4; i++)
                out[i] = make_float4(acc[h][4 * i] - base, acc[h][4 * i + 1] - base, acc[h][4 * i + 2] - base, acc[h][4 * i + 3] - base);
            if (slice == 0) {
                mergeMax[rowWarp * G + head] = runningMax[h];
                mergeSum[rowWarp * G + head] = sum[h];
            }
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < G * D; i += P::kThreads) {
        const int head = i / D, d = i % D;
        float m = kEmptyMax;
#pragma unroll
        for (int w = 0; w < kRowWarps; w++) m = fmaxf(m, mergeMax[w * G + head]);
        float a = 0.0f, l = 0.0f;
#pragma unroll
        for (int w = 0; w < kRowWarps; w++) {
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
}

} // namespace

TRITTER_KERNEL void kv_int4_write_d128(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales)
{
    write_rows<128>(keys, values, tokens, kvHeads, capacity, firstSlot, kData, kScales, vData, vScales);
}

TRITTER_KERNEL void kv_int4_write_d32(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales)
{
    write_rows<32>(keys, values, tokens, kvHeads, capacity, firstSlot, kData, kScales, vData, vScales);
}

TRITTER_KERNEL void kv_int4_write_d64(const float* keys, const float* values, int tokens, int kvHeads, int capacity, int firstSlot,
    uint8_t* kData, __half* kScales, uint8_t* vData, __half* vScales)
{
    write_rows<64>(keys, values, tokens, kvHeads, capacity, firstSlot, kData, kScales, vData, vScales);
}

#define KV_INT4_DECODE(D, G)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(Decode<D, G>::kThreads) kv_int4_decode_d##D##_g##G(                          \
        const float* query, const uint8_t* kData, const __half* kScales, const uint8_t* vData, const __half* vScales,          \
        int capacity, int length, int splitSize, float* partialAcc, float* partialMax, float* partialSum)                     \
    {                                                                                                                          \
        decode<D, G>(query, kData, kScales, vData, vScales, capacity, length, splitSize, partialAcc, partialMax, partialSum); \
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

// Merges the splits of each query head: out = sum_s 2^(m_s - M) acc_s / sum_s 2^(m_s - M) l_s. One block of D threads
// per head; reads numHeads * splits * (D + 2) floats, a few percent of the cache.
TRITTER_KERNEL void kv_int4_combine(const float* partialAcc, const float* partialMax, const float* partialSum, int splits, float* output)
{
    const int head = blockIdx.x, d = threadIdx.x, D = blockDim.x;
    float m = kEmptyMax;
    for (int s = 0; s < splits; s++) m = fmaxf(m, partialMax[head * splits + s]);
    float a = 0.0f, l = 0.0f;
    for (int s = 0; s < splits; s++) {
        const float c = exp2f(partialMax[head * splits + s] - m);
        a = fmaf(c, partialAcc[((int64_t)head * splits + s) * D + d], a);
        l = fmaf(c, partialSum[head * splits + s], l);
    }
    output[head * D + d] = a / l;
}
