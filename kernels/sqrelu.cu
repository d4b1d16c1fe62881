// Squared ReLU, y = relu(x)^2, and its gradient dx = 2 relu(x) dy; and the gated MLP's activation y = relu(gate)^2 up
// with its gradients d gate = 2 relu(gate) (dy up), d up = dy relu(gate)^2, which training runs instead of the squared
// ReLU and a product (relu(gate)^2 is recomputed in the backward pass, not stored). CPU twin:
// managed/Tritter.Cpu/Ops/SquaredRelu.cs.
//
// Floor: purely bandwidth-bound. Forward moves 8 bytes per element (read x, write y), backward 12 (read x and dy,
// write dx); gated 12 forward (the unfused pair moves 20) and 20 backward (the unfused two products and gradient move
// 36); 1-4 flops each, far under any compute roofline. The goal is the device-to-device copy bandwidth on those bytes,
// so the loops use 16-byte loads and stores and one pass over memory (PyTorch eager makes two).
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

// The gated gradients of one element, in the unfused sequence's order: t = dy up, d gate = 2 relu(gate) t.
__device__ __forceinline__ void sqrelu_gate_grad(float gate, float up, float dy, float& dgate, float& dup)
{
    dgate = sqrelu_grad(gate, __fmul_rn(dy, up));
    dup = __fmul_rn(dy, sqrelu(gate));
}

TRITTER_KERNEL void sqrelu_gate_forward_f32(const float* __restrict__ gate, const float* __restrict__ up, float* __restrict__ y, int64_t n)
{
    int64_t vectorised = 0;
    if (aligned16(gate) && aligned16(up) && aligned16(y)) {
        vectorised = n / 4;
        const float4* g4 = reinterpret_cast<const float4*>(gate);
        const float4* u4 = reinterpret_cast<const float4*>(up);
        float4* y4 = reinterpret_cast<float4*>(y);
        for (int64_t i = global_thread(); i < vectorised; i += grid_threads()) {
            const float4 g = g4[i], u = u4[i];
            y4[i] = make_float4(sqrelu_gated(g.x, u.x), sqrelu_gated(g.y, u.y), sqrelu_gated(g.z, u.z), sqrelu_gated(g.w, u.w));
        }
        vectorised *= 4;
    }
    for (int64_t i = vectorised + global_thread(); i < n; i += grid_threads())
        y[i] = sqrelu_gated(gate[i], up[i]);
}

TRITTER_KERNEL void sqrelu_gate_backward_f32(const float* __restrict__ gate, const float* __restrict__ up, const float* __restrict__ dy,
    float* __restrict__ dgate, float* __restrict__ dup, int64_t n)
{
    int64_t vectorised = 0;
    if (aligned16(gate) && aligned16(up) && aligned16(dy) && aligned16(dgate) && aligned16(dup)) {
        vectorised = n / 4;
        const float4* g4 = reinterpret_cast<const float4*>(gate);
        const float4* u4 = reinterpret_cast<const float4*>(up);
        const float4* dy4 = reinterpret_cast<const float4*>(dy);
        float4* dg4 = reinterpret_cast<float4*>(dgate);
        float4* du4 = reinterpret_cast<float4*>(dup);
        for (int64_t i = global_thread(); i < vectorised; i += grid_threads()) {
            const float4 g = __ldcs(g4 + i), u = __ldcs(u4 + i), d = __ldcs(dy4 + i);
            float4 a, b;
            sqrelu_gate_grad(g.x, u.x, d.x, a.x, b.x);
            sqrelu_gate_grad(g.y, u.y, d.y, a.y, b.y);
            sqrelu_gate_grad(g.z, u.z, d.z, a.z, b.z);
            sqrelu_gate_grad(g.w, u.w, d.w, a.w, b.w);
            dg4[i] = a;
            du4[i] = b;
        }
        vectorised *= 4;
    }
    for (int64_t i = vectorised + global_thread(); i < n; i += grid_threads())
        sqrelu_gate_grad(gate[i], up[i], dy[i], dgate[i], dup[i]);
}
