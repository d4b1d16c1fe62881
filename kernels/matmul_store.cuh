// The epilogue shared by the dense GEMMs of matmul.cu (TF32) and matmul_bf16.cu: a warp's accumulators of
// MTiles x NTiles mma.sync tiles of 16 x 8 into row-major float32 C[M, N], plus bias[n], plus C itself when Accumulate.
#pragma once
#include "common.cuh"

// Accumulator (i, j, h * 2 + e) is C[row g + 8h, column 2t + e] of the 16 x 8 tile (i, j) of the warp's tile at
// (row0, column0); rows past m and columns past n are dropped. A lane's two accumulators of a row are adjacent columns:
// where n is even and C (and the bias) 8-byte aligned, they go as one 8-byte access, so that a warp's store fills whole
// 32-byte sectors instead of half of each.
template <bool Accumulate, int MTiles, int NTiles>
__device__ __forceinline__ void store_accumulators(const float (&acc)[MTiles][NTiles][4], float* __restrict__ c, const float* __restrict__ bias,
    int m, int n, int row0, int column0)
{
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const bool pairs = (n & 1) == 0 && ((reinterpret_cast<uintptr_t>(c) | reinterpret_cast<uintptr_t>(bias)) & 7) == 0;
#pragma unroll
    for (int i = 0; i < MTiles; i++)
#pragma unroll
        for (int h = 0; h < 2; h++)
        {
            const int row = row0 + i * 16 + g + 8 * h;
            if (row >= m)
                continue;
            float* const out = c + (int64_t)row * n;
#pragma unroll
            for (int j = 0; j < NTiles; j++)
            {
                const int column = column0 + j * 8 + 2 * t;
                if (column >= n)
                    continue;
                float2 value = make_float2(acc[i][j][h * 2], acc[i][j][h * 2 + 1]);
                if (pairs)
                {
                    if (bias != nullptr)
                    {
                        const float2 b = *reinterpret_cast<const float2*>(bias + column);
                        value.x += b.x;
                        value.y += b.y;
                    }
                    if (Accumulate)
                    {
                        const float2 old = *reinterpret_cast<const float2*>(out + column);
                        value.x += old.x;
                        value.y += old.y;
                    }
                    *reinterpret_cast<float2*>(out + column) = value;
                    continue;
                }
#pragma unroll
                for (int e = 0; e < 2; e++)
                {
                    if (column + e >= n)
                        continue;
                    float v = e == 0 ? value.x : value.y;
                    if (bias != nullptr)
                        v += bias[column + e];
                    if (Accumulate)
                        v += out[column + e];
                    out[column + e] = v;
                }
            }
        }
}
