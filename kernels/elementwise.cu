// Element-wise arithmetic over float32: add, accumulate, multiply, fill, copy. CPU twin:
// managed/Tritter.Cpu/Ops/Elementwise.cs (and CpuBackend.Elementwise.cs for fill and copy).
//
// Floor: bandwidth only. Add and multiply move 12 bytes per element (two reads, one write) for 1 flop, accumulate 12
// (read both, write the destination), copy 8, fill 4; the goal is the device-to-device copy bandwidth, so the loops
// use 16-byte accesses in one pass. No __restrict__: callers may run in place (output aliasing an input), which is
// safe because every element is read and written by the same thread.
#include "vector.cuh"

namespace {
__device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }

template <typename F>
__device__ __forceinline__ void binary(const float* a, const float* b, float* out, int64_t n, F f)
{
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* out4 = reinterpret_cast<float4*>(out);
    for_each_float4(n, aligned16(a) && aligned16(b) && aligned16(out),
        [&](int64_t i) { out4[i] = map4(a4[i], b4[i], f); },
        [&](int64_t i) { out[i] = f(a[i], b[i]); });
}
}

TRITTER_KERNEL void add_f32(const float* a, const float* b, float* out, int64_t n)
{
    binary(a, b, out, n, [](float x, float y) { return add(x, y); });
}

// destination += source, with the CPU's operand order (destination + source); addition commutes bit-exactly anyway.
TRITTER_KERNEL void accumulate_f32(const float* source, float* destination, int64_t n)
{
    binary(destination, source, destination, n, [](float x, float y) { return add(x, y); });
}

TRITTER_KERNEL void multiply_f32(const float* a, const float* b, float* out, int64_t n)
{
    binary(a, b, out, n, [](float x, float y) { return mul(x, y); });
}

TRITTER_KERNEL void fill_f32(float* out, float value, int64_t n)
{
    float4* out4 = reinterpret_cast<float4*>(out);
    for_each_float4(n, aligned16(out),
        [&](int64_t i) { out4[i] = make_float4(value, value, value, value); },
        [&](int64_t i) { out[i] = value; });
}

TRITTER_KERNEL void copy_f32(const float* __restrict__ source, float* __restrict__ destination, int64_t n)
{
    const float4* s4 = reinterpret_cast<const float4*>(source);
    float4* d4 = reinterpret_cast<float4*>(destination);
    for_each_float4(n, aligned16(source) && aligned16(destination),
        [&](int64_t i) { d4[i] = __ldcs(s4 + i); },
        [&](int64_t i) { destination[i] = source[i]; });
}
