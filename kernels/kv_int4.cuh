// The INT4 KV-cache write of one row (format: docs/formats/kv-cache-int4.md), shared by kv_int4.cu and decode_fused.cu:
// one warp per (token, KV head, K or V) row. A lane holds D/32 consecutive values; a group of 32 values is 32/(D/32)
// lanes, whose absmax is reduced by shuffles. Same float32 operations as the CPU, so the bytes are equal.
#pragma once
#include "common.cuh"
#include <cuda_fp16.h>

namespace {

constexpr int kGroup = 32;          // values per scale
constexpr float kMaxScale = 65504.0f;

// The calling lane's D/32 consecutive values of the row src.
template <int D>
__device__ __forceinline__ void kv_int4_load_lane(const float* __restrict__ src, float (&x)[D / 32])
{
    const int lane = threadIdx.x & 31;
    if constexpr (D / 32 == 4) {
        const float4 v = __ldg(reinterpret_cast<const float4*>(src) + lane);
        x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w;
    } else if constexpr (D / 32 == 2) {
        const float2 v = __ldg(reinterpret_cast<const float2*>(src) + lane);
        x[0] = v.x; x[1] = v.y;
    } else {
        x[0] = __ldg(src + lane);
    }
}

// Quantises the row whose lanes hold x (as kv_int4_load_lane loads it) into slot `slot` ([kvHeads][capacity] flattened)
// of one half (K or V) of a layer.
template <int D>
__device__ __forceinline__ void kv_int4_store_row(const float (&x)[D / 32], int64_t slot, uint8_t* __restrict__ data, __half* __restrict__ scales)
{
    constexpr int kPerLane = D / 32;
    constexpr int kLanesPerGroup = 32 / kPerLane;
    const int lane = threadIdx.x & 31;
    data += slot * (D / 2);
    scales += slot * (D / kGroup);
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

} // namespace
