// Squared ReLU, y = relu(x)^2, and its gradient dx = 2 relu(x) dy. CPU twin: managed/Tritter.Cpu/Ops/SquaredRelu.cs.
//
// Floor: purely bandwidth-bound. Forward moves 8 bytes per element (read x, write y), backward 12 (read x and dy,
// write dx), with 1-3 flops each, far under any compute roofline. The goal is the device-to-device copy bandwidth
// on those bytes, so the loops use 16-byte loads and stores and one pass over memory (PyTorch eager makes two).
#include "sqrelu.cuh"

__device__ __forceinline__ float sqrelu_grad(float x, float dy) { return 2.0f * fmaxf(x, 0.0f) * dy; }

TRITTER_KERNEL void sqrelu_forward_f32(const float* __restrict__ x, float* __restrict__ y, int64_t n)
{
    int64_t vectorised = 0;
    if (aligned16(x) && aligned16(y)) {
        vectorised = n / 4;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        float4* y4 = reinterpret_cast<float4*>(y);
        for (int64_t i = global_thread(); i < vectorised; i += grid_threads()) {
            float4 v = __ldcs(x4 + i);
            __stcs(y4 + i, make_float4(sqrelu(v.x), sqrelu(v.y), sqrelu(v.z), sqrelu(v.w)));
        }
        vectorised *= 4;
    }
    for (int64_t i = vectorised + global_thread(); i < n; i += grid_threads())
        y[i] = sqrelu(x[i]);
}

TRITTER_KERNEL void sqrelu_backward_f32(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dx, int64_t n)
{
    int64_t vectorised = 0;
    if (aligned16(x) && aligned16(dy) && aligned16(dx)) {
        vectorised = n / 4;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        const float4* dy4 = reinterpret_cast<const float4*>(dy);
        float4* dx4 = reinterpret_cast<float4*>(dx);
        for (int64_t i = global_thread(); i < vectorised; i += grid_threads()) {
            float4 v = __ldcs(x4 + i);
            float4 g = __ldcs(dy4 + i);
            __stcs(dx4 + i, make_float4(sqrelu_grad(v.x, g.x), sqrelu_grad(v.y, g.y), sqrelu_grad(v.z, g.z), sqrelu_grad(v.w, g.w)));
        }
        vectorised *= 4;
    }
    for (int64_t i = vectorised + global_thread(); i < n; i += grid_threads())
        dx[i] = sqrelu_grad(x[i], dy[i]);
}
