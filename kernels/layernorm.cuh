// LayerNorm of one row by one warp (rows narrower than KernelLaunch.BlockNormMinWidth) or by one block (wider rows),
// shared by layernorm.cu and decode_fused.cu so that a fused kernel gives the bits of layernorm_forward_f32 /
// layernorm_forward_rows_f32. The host picks by width alone, so a row's bits never depend on how many rows run with it.
#pragma once
#include "reduce.cuh"

struct RowMoments {
    float mean;
    float rstd;
};

// Mean and reciprocal standard deviation of the row xr (width elements) over the calling warp, lane l summing elements
// l, l + 32, ...; every lane gets both. Two passes for the variance, as the CPU, avoid E[x^2] - E[x]^2 cancellation.
__device__ __forceinline__ RowMoments warp_row_moments(const float* xr, int width, float epsilon)
{
    const int lane = threadIdx.x & 31;
    float sum = 0.0f;
    for (int i = lane; i < width; i += 32) sum += xr[i];
    const float mu = __fdiv_rn(warp_sum(sum), (float)width);
    float squares = 0.0f;
    for (int i = lane; i < width; i += 32) { const float d = __fsub_rn(xr[i], mu); squares = fmaf(d, d, squares); }
    const float variance = __fdiv_rn(warp_sum(squares), (float)width);
    return {mu, __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(variance, epsilon)))};
}

// Calls f(i, x[i]) for this thread's elements of a row of `width`: quads 4u..4u+3 for u = threadIdx.x, + blockDim.x, ...
// in order, with one 16-byte load a quad where the row allows (the arithmetic, and so the bits, are the same either way).
template <typename F>
__device__ __forceinline__ void for_block_row_quads(const float* xr, int width, F f)
{
    const int quads = (width + 3) / 4;
    const bool vector = width % 4 == 0 && aligned16(xr);
    for (int u = threadIdx.x; u < quads; u += blockDim.x) {
        const int i = 4 * u;
        if (vector) {
            const float4 v = reinterpret_cast<const float4*>(xr)[u];
            f(i, v.x); f(i + 1, v.y); f(i + 2, v.z); f(i + 3, v.w);
        } else {
            for (int e = 0; e < 4 && i + e < width; e++) f(i + e, xr[i + e]);
        }
    }
}

// warp_row_moments over a block: a warp alone waits on its loads one after another (30-70 us for a row of 4096 in a
// decode step, where one row is all the work); a block has every load of the row in flight at once. Every thread gets
// both; each reads only the elements for_block_row_quads gives it, so a kernel may write those just before.
__device__ __forceinline__ RowMoments block_row_moments(const float* xr, int width, float epsilon, float* shared32)
{
    float sum = 0.0f;
    for_block_row_quads(xr, width, [&](int, float v) { sum += v; });
    const float mu = __fdiv_rn(block_sum(sum, shared32), (float)width);
    float squares = 0.0f;
    for_block_row_quads(xr, width, [&](int, float v) { const float d = __fsub_rn(v, mu); squares = fmaf(d, d, squares); });
    const float variance = __fdiv_rn(block_sum(squares, shared32), (float)width);
    return {mu, __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(variance, epsilon)))};
}

__device__ __forceinline__ float layernorm_apply(float x, RowMoments m, float weight, float bias)
{
    return fmaf(__fmul_rn(__fsub_rn(x, m.mean), m.rstd), weight, bias);
}
