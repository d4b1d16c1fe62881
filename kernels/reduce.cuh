// Warp and block sums for the row and block reductions (norms, losses, sum of squares).
#pragma once
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T warp_sum(T value)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

template <typename T>
__device__ __forceinline__ T warp_max(T value)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) value = max(value, __shfl_xor_sync(0xffffffffu, value, offset));
    return value;
}

// Sum over a block whose size is a multiple of 32 (at most 1024); every thread gets the total. The order of additions
// is fixed by the block size alone, so the result is deterministic. Safe to call repeatedly with one shared buffer:
// the leading barrier keeps a fast warp from overwriting partials a slow warp is still reading.
template <typename T>
__device__ __forceinline__ T block_sum(T value, T* shared32)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    value = warp_sum(value);
    __syncthreads();
    if (lane == 0) shared32[warp] = value;
    __syncthreads();
    T total = lane < warps ? shared32[lane] : T(0);
    return warp_sum(total);
}

// Maximum over a block, as block_sum.
__device__ __forceinline__ float block_max(float value, float* shared32)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    value = warp_max(value);
    __syncthreads();
    if (lane == 0) shared32[warp] = value;
    __syncthreads();
    float total = lane < warps ? shared32[lane] : -INFINITY;
    return warp_max(total);
}
