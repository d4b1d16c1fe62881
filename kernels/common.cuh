// Shared helpers for Tritter's kernels. Every kernel file includes this and nothing from the CUDA runtime API:
// the host side is the driver API, so kernels must not depend on runtime-only symbols.
#pragma once
#include <stdint.h>

#define TRITTER_KERNEL extern "C" __global__

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Grid-stride bounds: element-wise kernels launch just enough blocks to fill the device (KernelLaunch.Elementwise).
__device__ __forceinline__ int64_t global_thread() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_threads() { return (int64_t)gridDim.x * blockDim.x; }

// Ids are checked on the device, not copied to the host first: a bad one is reported through a record in mapped pinned
// memory, {kind, index, id, limit}, written with one 16-byte store so that concurrent reports do not interleave, and the
// host raises it at its next synchronisation (CudaBackend.IdChecks.cs). Returns whether the id is in [0, limit).
__device__ __forceinline__ bool check_id(int id, int limit, int kind, int64_t index, int* record)
{
    if ((unsigned)id < (unsigned)limit) return true;
    *reinterpret_cast<int4*>(record) = make_int4(kind, (int)index, id, limit);
    return false;
}
