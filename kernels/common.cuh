// Shared helpers for Tritter's kernels. Every kernel file includes this and nothing from the CUDA runtime API:
// the host side is the driver API, so kernels must not depend on runtime-only symbols.
#pragma once
#include <stdint.h>

#define TRITTER_KERNEL extern "C" __global__

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Grid-stride bounds: element-wise kernels launch just enough blocks to fill the device (KernelLaunch.Elementwise).
__device__ __forceinline__ int64_t global_thread() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_threads() { return (int64_t)gridDim.x * blockDim.x; }
