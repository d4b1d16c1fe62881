// AdamW with decoupled weight decay, and the float64 sum of squares for global-norm clipping. CPU twin:
// managed/Tritter.Cpu/Ops/AdamW.cs.
//
// Floor of adamw_f32: bandwidth. 28 bytes per element (read parameter, gradient and both moments, write parameter
// and both moments) for about 15 flops and one square root; the goal is copy bandwidth on those bytes (the 1B
// preset's ~1.1G parameters move ~31 GB per step: ~11 ms at 2.9 TB/s). The update is the CPU's sequence of float32
// operations written with round-to-nearest intrinsics, so nvcc cannot contract them into FMAs and the result is
// bit-equal to the CPU's. The bias corrections and the decay factor come from the host, computed as the CPU does.
//
// Floor of sum_squares_f32: 4 bytes read per element, 2 flops; each thread accumulates exact float64 squares, each
// block writes one float64 partial, and the host adds the partials in block order (deterministic for a device).
#include "vector.cuh"
#include "reduce.cuh"
#include <cuda_bf16.h>

namespace {
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
}

TRITTER_KERNEL void adamw_f32(float* __restrict__ parameter, const float* __restrict__ gradient, float* __restrict__ first_moment,
    float* __restrict__ second_moment, int64_t n, float lr, float beta1, float beta2, float epsilon, float decay,
    float first_correction, float second_correction, float gradient_scale)
{
    float4* p4 = reinterpret_cast<float4*>(parameter);
    const float4* g4 = reinterpret_cast<const float4*>(gradient);
    float4* m4 = reinterpret_cast<float4*>(first_moment);
    float4* v4 = reinterpret_cast<float4*>(second_moment);
    const bool aligned = aligned16(parameter) && aligned16(gradient) && aligned16(first_moment) && aligned16(second_moment);
    for_each_float4(n, aligned,
        [&](int64_t i) {
            float4 p = p4[i], m = m4[i], v = v4[i];
            const float4 g = __ldcs(g4 + i);
            adamw_one(p.x, g.x, m.x, v.x, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
            adamw_one(p.y, g.y, m.y, v.y, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
            adamw_one(p.z, g.z, m.z, v.z, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
            adamw_one(p.w, g.w, m.w, v.w, lr, beta1, beta2, epsilon, decay, first_correction, second_correction, gradient_scale);
            p4[i] = p; m4[i] = m; v4[i] = v;
        },
        [&](int64_t i) {
            adamw_one(parameter[i], gradient[i], first_moment[i], second_moment[i], lr, beta1, beta2, epsilon, decay,
                first_correction, second_correction, gradient_scale);
        });
}

// AdamW with bfloat16 moments (half the optimiser state): each moment is widened exactly, updated by the same float32
// operations as adamw_f32, and stored rounded to nearest even, as the CPU twin's BFloat16Bits.FromSingle does. Floor:
// 20 bytes per element (parameter and gradient 4 + 4 read, moments 2 + 2 read, parameter and moments 4 + 2 + 2 written).
TRITTER_KERNEL void adamw_bf16_moments(float* __restrict__ parameter, const float* __restrict__ gradient,
    __nv_bfloat16* __restrict__ first_moment, __nv_bfloat16* __restrict__ second_moment, int64_t n, float lr, float beta1,
    float beta2, float epsilon, float decay, float first_correction, float second_correction, float gradient_scale)
{
    for (int64_t i = global_thread(); i < n; i += grid_threads()) {
        float m = __bfloat162float(first_moment[i]), v = __bfloat162float(second_moment[i]);
        adamw_one(parameter[i], __ldcs(gradient + i), m, v, lr, beta1, beta2, epsilon, decay, first_correction,
            second_correction, gradient_scale);
        first_moment[i] = __float2bfloat16_rn(m);
        second_moment[i] = __float2bfloat16_rn(v);
    }
}

// One float64 partial sum of squares per block into partials[blockIdx.x].
TRITTER_KERNEL void sum_squares_f32(const float* __restrict__ x, int64_t n, double* __restrict__ partials)
{
    __shared__ double shared[32];
    const float4* x4 = reinterpret_cast<const float4*>(x);
    double sum = 0.0;
    for_each_float4(n, aligned16(x),
        [&](int64_t i) {
            const float4 v = x4[i];
            sum += (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w;
        },
        [&](int64_t i) { sum += (double)x[i] * x[i]; });
    sum = block_sum(sum, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}
