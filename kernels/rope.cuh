// The rotate-half rotation of one pair (x1 at i, x2 at i + head_dim/2) by the angle with cosine c and sine s, shared by
// rope.cu and decode_fused.cu: the CPU's float32 operations without FMA contraction, so equal angles give bit-equal outputs.
#pragma once
#include "common.cuh"

__device__ __forceinline__ float rope_first(float x1, float x2, float c, float s) { return __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s)); }

__device__ __forceinline__ float rope_second(float x1, float x2, float c, float s) { return __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s)); }
