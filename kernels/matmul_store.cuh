// The accumulators shared by the dense GEMMs of matmul.cu (TF32) and matmul_bf16.cu: a warp's MTiles x NTiles
// mma.sync tiles of 16 x 8 (wgmma's accumulators in matmul_bf16_sm90a.cu have the same layout), stored into row-major
// float32 C[M, N] plus bias[n], and for C += A B first loaded from C; and the order in which blocks take output tiles.
#pragma once
#include "common.cuh"

// Accumulator (i, j, h * 2 + e) is C[row g + 8h, column 2t + e] of the 16 x 8 tile (i, j) of the warp's tile at
// (row0, column0): f(i, j, h, offset of C[row, column], column) for each pair inside C's m rows and n columns (the
// second column of a pair may be past n). A lane's pair is two adjacent columns: where n is even and C (and the bias)
// 8-byte aligned, it moves as one 8-byte access, so that a warp fills whole 32-byte sectors instead of half of each.
template <int MTiles, int NTiles, typename F>
__device__ __forceinline__ void for_each_accumulator_pair(int m, int n, int row0, int column0, F&& f)
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
#pragma unroll
            for (int j = 0; j < NTiles; j++)
            {
                const int column = column0 + j * 8 + 2 * t;
                if (column < n)
                    f(i, j, h, (int64_t)row * n + column, column);
            }
        }
}

// The accumulators start from C for C += A B. Called before the main loop, these loads overlap the operand
// pipeline; read in the epilogue, each waited before its store (an accumulating dW chunk of K = 512 took 3x the time
// of an overwriting one).
template <int MTiles, int NTiles>
__device__ __forceinline__ void load_accumulators(float (&acc)[MTiles][NTiles][4], const float* __restrict__ c, int m, int n, int row0, int column0)
{
    const bool pairs = (n & 1) == 0 && (reinterpret_cast<uintptr_t>(c) & 7) == 0;
    for_each_accumulator_pair<MTiles, NTiles>(m, n, row0, column0, [&](int i, int j, int h, int64_t at, int column) {
        if (pairs)
        {
            const float2 old = *reinterpret_cast<const float2*>(c + at);
            acc[i][j][h * 2] = old.x;
            acc[i][j][h * 2 + 1] = old.y;
            return;
        }
        acc[i][j][h * 2] = c[at];
        if (column + 1 < n)
            acc[i][j][h * 2 + 1] = c[at + 1];
    });
}

template <int MTiles, int NTiles>
__device__ __forceinline__ void store_accumulators(const float (&acc)[MTiles][NTiles][4], float* __restrict__ c, const float* __restrict__ bias,
    int m, int n, int row0, int column0)
{
    const bool pairs = (n & 1) == 0 && ((reinterpret_cast<uintptr_t>(c) | reinterpret_cast<uintptr_t>(bias)) & 7) == 0;
    for_each_accumulator_pair<MTiles, NTiles>(m, n, row0, column0, [&](int i, int j, int h, int64_t at, int column) {
        float2 value = make_float2(acc[i][j][h * 2], acc[i][j][h * 2 + 1]);
        if (pairs)
        {
            if (bias != nullptr)
            {
                const float2 b = *reinterpret_cast<const float2*>(bias + column);
                value.x += b.x;
                value.y += b.y;
            }
            *reinterpret_cast<float2*>(c + at) = value;
            return;
        }
        c[at] = bias != nullptr ? value.x + bias[column] : value.x;
        if (column + 1 < n)
            c[at + 1] = bias != nullptr ? value.y + bias[column + 1] : value.y;
    });
}

// The output tile (block_m, block_n) of this block of a grid (ceil(n / BN), ceil(m / BM)): blocks in order of their
// linear index sweep the N tiles of GroupM tile rows at a time, so that the blocks resident at once share operand
// tiles in L2.
template <int BM, int BN, int GroupM>
__device__ __forceinline__ void grouped_block_tile(int m, int& block_m, int& block_n)
{
    const int tiles_m = (m + BM - 1) / BM, id = blockIdx.y * gridDim.x + blockIdx.x;
    const int group = id / (GroupM * gridDim.x), first = group * GroupM;
    const int height = min(tiles_m - first, GroupM), within = id - group * GroupM * gridDim.x;
    block_m = (first + within % height) * BM;
    block_n = (within / height) * BN;
}
