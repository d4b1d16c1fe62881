// Squared ReLU of one value, shared by sqrelu.cu and decode_fused.cu.
#pragma once
#include "common.cuh"

__device__ __forceinline__ float sqrelu(float x) { float r = fmaxf(x, 0.0f); return r * r; }
