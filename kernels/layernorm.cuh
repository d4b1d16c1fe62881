// LayerNorm of one row by one warp, shared by layernorm.cu and decode_fused.cu so that a fused kernel gives the bits of
// layernorm_forward_f32.
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

__device__ __forceinline__ float layernorm_apply(float x, RowMoments m, float weight, float bias)
{
    return fmaf(__fmul_rn(__fsub_rn(x, m.mean), m.rstd), weight, bias);
}
