// cp.async copies global -> shared (SM_80+), which the tensor-core kernels stage their tiles with: each copy is in
// flight until the thread waits for its commit group, so the next tile loads while the current one is multiplied.
#pragma once
#include "common.cuh"

__device__ __forceinline__ uint32_t shared_address(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

// 16 bytes to a shared address, zero-filled where !valid (the source is then not read).
__device__ __forceinline__ void copy16(uint32_t destination, const void* source, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(destination), "l"(source), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void copy16(float* destination, const float* source, bool valid) { copy16(shared_address(destination), source, valid); }

// 4 bytes, for rows that are not 16-byte aligned.
__device__ __forceinline__ void copy4(float* destination, const float* source, bool valid)
{
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(shared_address(destination)), "l"(source), "r"(valid ? 4 : 0));
}

__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most Pending commit groups of this thread are still in flight.
template <int Pending>
__device__ __forceinline__ void wait_copies() { asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending)); }
