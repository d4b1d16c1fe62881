// AdamW with decoupled weight decay, and the float64 sum of squares for global-norm clipping, each one launch over every
// tensor of a step (a table of Slots, KernelLaunch.Slots): the 1B preset has 340 parameter tensors, most of them a few
// thousand elements, whose launches one at a time cost more than their bytes. CPU twin: managed/Tritter.Cpu/Ops/AdamW.cs.
//
// Floor of adamw_*: bandwidth. 28 bytes per element (read parameter, gradient and both moments, write parameter
// and both moments) for about 15 flops and one square root; the goal is copy bandwidth on those bytes (the 1B
// preset's ~1.1G parameters move ~31 GB per step: ~11 ms at 2.9 TB/s). The update is the CPU's sequence of float32
// operations written with round-to-nearest intrinsics, so nvcc cannot contract them into FMAs and the result is
// bit-equal to the CPU's. The bias corrections and the decay factor come from the host, computed as the CPU does.
//
// Floor of sum_squares_*: 4 bytes read per element, 2 flops; each thread accumulates exact float64 squares, each chunk
// writes one float64 partial, and one block adds the partials in a fixed order (deterministic for a device).
#include "reduce.cuh"
#include <cuda_bf16.h>
#include "bf16.cuh"

// One tensor of the table: AdamW's parameter, gradient and moments (the sum of squares reads data[0]), its element
// count, the first chunk of the launch that is its own, whether weight decay applies and whether every pointer is
// 16-byte aligned. KernelLaunch.Slot is its C# twin (56 bytes).
struct Slot
{
    void* data[4];
    int64_t count;
    int64_t first_chunk;
    int decays;
    int vector;
};

namespace {
constexpr int kChunk = 16384; // elements a block updates (KernelLaunch.SlotChunk)

// The slot whose chunks hold chunk `chunk`: the last one starting at or before it.
__device__ __forceinline__ const Slot& find_slot(const Slot* __restrict__ slots, int count, int64_t chunk)
{
    int low = 0, high = count - 1;
    while (low < high)
    {
        const int middle = (low + high + 1) >> 1;
        if (slots[middle].first_chunk <= chunk) low = middle;
        else high = middle - 1;
    }
    return slots[low];
}

// This block's elements of its slot: [begin, end), of which [begin, vector_end) go four at a time.
struct ChunkRange
{
    int64_t begin, vector_end, end;
    __device__ __forceinline__ ChunkRange(const Slot& slot)
    {
        begin = (blockIdx.x - slot.first_chunk) * kChunk;
        end = min(slot.count, begin + kChunk);
        vector_end = slot.vector ? begin + (end - begin) / 4 * 4 : begin;
    }
};

__device__ __forceinline__ float4 load_moments(const float* m) { return *reinterpret_cast<const float4*>(m); }
__device__ __forceinline__ void store_moments(float* m, float4 v) { *reinterpret_cast<float4*>(m) = v; }
__device__ __forceinline__ float load_moment(const float* m) { return *m; }
__device__ __forceinline__ void store_moment(float* m, float v) { *m = v; }

// bfloat16 moments are widened exactly and stored rounded to nearest even, as the CPU twin's BFloat16Bits.FromSingle.
__device__ __forceinline__ float4 load_moments(const __nv_bfloat16* m)
{
    const uint2 bits = *reinterpret_cast<const uint2*>(m);
    const float2 low = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&bits.x));
    const float2 high = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&bits.y));
    return make_float4(low.x, low.y, high.x, high.y);
}

__device__ __forceinline__ void store_moments(__nv_bfloat16* m, float4 v) { store_bf16x4(m, v.x, v.y, v.z, v.w); }

__device__ __forceinline__ float load_moment(const __nv_bfloat16* m) { return __bfloat162float(*m); }
__device__ __forceinline__ void store_moment(__nv_bfloat16* m, float v) { *m = __float2bfloat16_rn(v); }

__device__ __forceinline__ void adamw_one(float& p, float grad, float& m, float& v, float lr, float beta1, float beta2,
    float epsilon, float decay, float first_correction, float second_correction, float gradient_scale)
{
    const float g = __fmul_rn(grad, gradient_scale);
    m = __fadd_rn(__fmul_rn(beta1, m), __fmul_rn(__fsub_rn(1.0f, beta1), g));
    v = __fadd_rn(__fmul_rn(beta2, v), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, beta2), g), g));
    const float step = __fdiv_rn(__fmul_rn(lr, __fmul_rn(m, first_correction)),
        __fadd_rn(__fsqrt_rn(__fmul_rn(v, second_correction)), epsilon));
    p = __fsub_rn(__fmul_rn(p, decay), step);
}

// One block per chunk of kChunk elements of some slot's tensors.
template <typename Moment>
__device__ __forceinline__ void adamw_slots(const Slot* __restrict__ slots, int count, float lr, float beta1, float beta2, float epsilon,
    float decay, float first_correction, float second_correction, float gradient_scale)
{
    const Slot& slot = find_slot(slots, count, blockIdx.x);
    const ChunkRange range(slot);
    float* parameter = static_cast<float*>(slot.data[0]);
    const float* gradient = static_cast<const float*>(slot.data[1]);
    Moment* first = static_cast<Moment*>(slot.data[2]);
    Moment* second = static_cast<Moment*>(slot.data[3]);
    const float d = slot.decays ? decay : 1.0f;
    for (int64_t i = range.begin + 4 * threadIdx.x; i < range.vector_end; i += 4 * blockDim.x)
    {
        float4 p = *reinterpret_cast<const float4*>(parameter + i), m = load_moments(first + i), v = load_moments(second + i);
        const float4 g = __ldcs(reinterpret_cast<const float4*>(gradient + i));
        adamw_one(p.x, g.x, m.x, v.x, lr, beta1, beta2, epsilon, d, first_correction, second_correction, gradient_scale);
        adamw_one(p.y, g.y, m.y, v.y, lr, beta1, beta2, epsilon, d, first_correction, second_correction, gradient_scale);
        adamw_one(p.z, g.z, m.z, v.z, lr, beta1, beta2, epsilon, d, first_correction, second_correction, gradient_scale);
        adamw_one(p.w, g.w, m.w, v.w, lr, beta1, beta2, epsilon, d, first_correction, second_correction, gradient_scale);
        *reinterpret_cast<float4*>(parameter + i) = p;
        store_moments(first + i, m);
        store_moments(second + i, v);
    }
    for (int64_t i = range.vector_end + threadIdx.x; i < range.end; i += blockDim.x)
    {
        float m = load_moment(first + i), v = load_moment(second + i);
        adamw_one(parameter[i], __ldcs(gradient + i), m, v, lr, beta1, beta2, epsilon, d, first_correction, second_correction, gradient_scale);
        store_moment(first + i, m);
        store_moment(second + i, v);
    }
}
}

// AdamW over every slot: float32 moments (28 bytes an element) or bfloat16 (20 bytes: half the optimiser state). The
// decay factor applies to the slots that decay; the others keep their parameters' scale (factor 1, as 1 - lr * 0).
TRITTER_KERNEL void adamw_f32(const Slot* __restrict__ slots, int count, float lr, float beta1, float beta2, float epsilon, float decay,
    float first_correction, float second_correction, float gradient_scale)
{
    adamw_slots<float>(slots, count, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
}

TRITTER_KERNEL void adamw_bf16_moments(const Slot* __restrict__ slots, int count, float lr, float beta1, float beta2, float epsilon,
    float decay, float first_correction, float second_correction, float gradient_scale)
{
    adamw_slots<__nv_bfloat16>(slots, count, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
}

// One float64 partial sum of squares of data[0] per chunk into partials[blockIdx.x].
TRITTER_KERNEL void sum_squares_f32(const Slot* __restrict__ slots, int count, double* __restrict__ partials)
{
    __shared__ double shared[32];
    const Slot& slot = find_slot(slots, count, blockIdx.x);
    const ChunkRange range(slot);
    const float* x = static_cast<const float*>(slot.data[0]);
    double sum = 0.0;
    for (int64_t i = range.begin + 4 * threadIdx.x; i < range.vector_end; i += 4 * blockDim.x)
    {
        const float4 v = *reinterpret_cast<const float4*>(x + i);
        sum += (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w;
    }
    for (int64_t i = range.vector_end + threadIdx.x; i < range.end; i += blockDim.x) sum += (double)x[i] * x[i];
    sum = block_sum(sum, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// total[0] = the sum of `count` partials, by one block: thread t adds partials t, t + blockDim, ... in order, then the
// block adds its threads in a fixed tree.
TRITTER_KERNEL void sum_partials_f64(const double* __restrict__ partials, int64_t count, double* __restrict__ total)
{
    __shared__ double shared[32];
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) sum += partials[i];
    sum = block_sum(sum, shared);
    if (threadIdx.x == 0) total[0] = sum;
}
