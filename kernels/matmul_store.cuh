// The epilogue shared by the dense GEMMs of matmul.cu (TF32) and matmul_bf16.cu: a warp's accumulators of
// MTiles x NTiles mma.sync tiles of 16 x 8 into row-major float32 C[M, N], plus bias[n], plus C itself when Accumulate.
#pragma once
#include "common.cuh"

// Accumulator (i, j, h * 2 + e) is C[row g + 8h, column 2t + e] of the 16 x 8 tile (i, j) of the warp's tile at
// (row0, column0); rows past m and columns past n are dropped.
template <bool Accumulate, int MTiles, int NTiles>
__device__ __forceinline__ void store_accumulators(const float (&acc)[MTiles][NTiles][4], float* __restrict__ c, const float* __restrict__ bias,
    int m, int n, int row0, int column0)
{
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
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
#pragma unroll
                for (int e = 0; e < 2; e++)
                {
                    const int column = column0 + j * 8 + 2 * t + e;
                    if (column >= n)
                        continue;
                    float value = acc[i][j][h * 2 + e];
                    if (bias != nullptr)
                        value += bias[column];
                    if (Accumulate)
                        value += out[column];
                    out[column] = value;
                }
        }
}
