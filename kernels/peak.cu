// Tensor-core peak rate: the compute roofline of the bench suites (bench/Tritter.Bench/Gpu/Roofline.cs), measured on
// the device at start as the copy bandwidth is. No CPU twin: the kernels compute nothing anyone reads.
//
// Each warp issues `iterations` rounds of kChains independent mma.sync on register operands, so the tensor cores never
// wait on memory or on one chain's latency; the only memory traffic is one 4-byte store per thread at the end, which
// keeps the compiler from dropping the work. These are the warp-level instructions compute_80 PTX can express; on
// sm_90 the warpgroup instructions (wgmma) reach a higher peak that compute_80 code cannot use.
//
// Operations per mma (2 * m * n * k): TF32 m16n8k8 2048, BF16 m16n8k16 4096, INT8 m16n8k32 8192.
#include "common.cuh"

namespace {
// Independent accumulator chains per warp: enough to cover the mma latency with a few warps per SM sub-partition.
constexpr int kChains = 8;

// Operands built from the thread index: finite, varied values that stay in registers.
__device__ __forceinline__ uint32_t operand(int i) { return __float_as_uint(1.0f + 1e-3f * (float)((threadIdx.x + i) & 31)); }

__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_int8(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <typename Acc, void (*Mma)(Acc (&)[4], const uint32_t (&)[4], const uint32_t (&)[2])>
__device__ __forceinline__ void peak_loop(int iterations, float* __restrict__ sink)
{
    const uint32_t a[4] = {operand(0), operand(1), operand(2), operand(3)};
    const uint32_t b[2] = {operand(4), operand(5)};
    Acc acc[kChains][4] = {};
    for (int i = 0; i < iterations; i++) {
#pragma unroll
        for (int c = 0; c < kChains; c++) Mma(acc[c], a, b);
    }
    float total = 0.0f;
#pragma unroll
    for (int c = 0; c < kChains; c++) total += (float)acc[c][0] + (float)acc[c][1] + (float)acc[c][2] + (float)acc[c][3];
    sink[global_thread()] = total;
}
}

// Grid: any; sink holds one float per thread. Each warp does iterations * kChains mma of its type.
TRITTER_KERNEL void peak_mma_tf32(int iterations, float* __restrict__ sink) { peak_loop<float, mma_tf32>(iterations, sink); }
TRITTER_KERNEL void peak_mma_bf16(int iterations, float* __restrict__ sink) { peak_loop<float, mma_bf16>(iterations, sink); }
TRITTER_KERNEL void peak_mma_int8(int iterations, float* __restrict__ sink) { peak_loop<int, mma_int8>(iterations, sink); }
