// Squared ReLU of one value, and the gated MLP activation sqrelu(gate) * up, shared by sqrelu.cu, decode_fused.cu and
// ternary_gemv.cu (whose down product takes the gated activation as its input).
#pragma once
#include "common.cuh"

__device__ __forceinline__ float sqrelu(float x) { float r = fmaxf(x, 0.0f); return r * r; }

__device__ __forceinline__ float sqrelu_gated(float gate, float up) { return __fmul_rn(sqrelu(gate), up); }
