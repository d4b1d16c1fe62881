// Sweep-only diagnostics for ternary_gemv_sweep.py: the per-launch cost of an empty kernel in a graph, with and without
// a programmatic dependent launch (PDL), and a pure streaming read of a GEMV's weight bytes (no activations, no
// prologue, no arithmetic): the floor a GEMV launch of those bytes can reach in the same graph.
#include <stdint.h>

__device__ __forceinline__ void pdl_wait()
{
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}

extern "C" __global__ void empty_kernel(int) {}
extern "C" __global__ void empty_pdl(int) { pdl_wait(); }

// Reads n 16-byte words, four loads in flight per thread; PDL: the first loads are issued before the wait (the bytes
// are never written by a previous kernel), as the GEMV kernels' TERNARY_PREFETCH_BEFORE_WAIT build does.
template <bool Pdl>
__device__ __forceinline__ void stream(const uint4* __restrict__ p, long n, unsigned* out)
{
    unsigned acc = 0;
    const long stride = (long)gridDim.x * blockDim.x;
    bool waited = !Pdl;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += 4 * stride) {
        uint4 v[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const long j = i + u * stride;
            if (j < n) asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v[u].x), "=r"(v[u].y), "=r"(v[u].z), "=r"(v[u].w) : "l"(p + j));
            else v[u] = make_uint4(0, 0, 0, 0);
        }
        if (!waited) {
            pdl_wait();
            waited = true;
        }
#pragma unroll
        for (int u = 0; u < 4; u++) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
    }
    if (!waited) pdl_wait();
    if (acc == 0x12345678u) out[0] = acc;
}

extern "C" __global__ void stream_read(const uint4* p, long n, unsigned* out) { stream<false>(p, n, out); }
extern "C" __global__ void stream_read_pdl(const uint4* p, long n, unsigned* out) { stream<true>(p, n, out); }
