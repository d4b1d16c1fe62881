// Grid-stride loops over float arrays in 16-byte steps with a scalar tail, shared by the element-wise kernels.
#pragma once
#include "common.cuh"

// Calls vec(i) for every float4 index i < n/4 when every pointer is 16-byte aligned, then scalar(i) for the elements
// the float4 loop left (all of them when unaligned). Both run grid-stride, so any grid covers any n.
template <typename Vec, typename Scalar>
__device__ __forceinline__ void for_each_float4(int64_t n, bool aligned, Vec vec, Scalar scalar)
{
    int64_t done = 0;
    if (aligned) {
        const int64_t groups = n / 4;
        for (int64_t i = global_thread(); i < groups; i += grid_threads()) vec(i);
        done = groups * 4;
    }
    for (int64_t i = done + global_thread(); i < n; i += grid_threads()) scalar(i);
}

// Applies a float function to each lane of a float4.
template <typename F>
__device__ __forceinline__ float4 map4(float4 a, float4 b, F f)
{
    return make_float4(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w));
}
