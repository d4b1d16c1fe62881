// The W1.58A8 GEMM for training on Hopper's int8 warpgroup MMA: output[m, n] = (sum_k x[m, k] q[n, k]) *
// (scale(n) * row_scale[m]) + bias[n], the contract of ternary_gemm.cu's kernels with the weights as int8 codes
// (ITernaryOps.TernaryInt8Matmul): what CudaBackend runs in their place on compute capability 9.0 where UseWgmma.
// x int8 [M, ld] (per-token absmax activations) and q int8 [N, ld], ld a multiple of 16 with zeros past K (CudaBackend
// pads), both K-major. The integer sums are exact, and the epilogue rounds as ternary_gemm.cu's, so the CPU twin
// (Ternary.Int8Matmul) agrees bit for bit.
//
// Floor: 2 M N K integer operations at wgmma's dense int8 rate, ~1,979 TOP/s on an H100 SXM (twice its bf16 rate),
// against the ~1,300 of mma.sync m16n8k32 (peak.cu) of which ternary_gemm.cu reaches 400-590. Bytes are no limit: a
// 128 x 256 tile reads 384 bytes per k for 65,536 operations.
//
// Build and design: matmul_bf16_sm90a.cu (the sm_90a build) and wgmma.cuh (the pipeline, layouts and descriptors). A
// tile line is 128 k of int8, and each of a k tile's 4 steps is one wgmma m64nWG_BNk32 (32 bytes along the lines, as
// bf16's k16).
#include "matmul_store.cuh"
#include "wgmma.cuh"

namespace {

// D += A B for one k32 step, A 64 x 32 at descriptor a, B 32 x N at descriptor b, both K-major (integer wgmma has no
// transpose), scale-d true through a predicate set from a register, as ptxas expects it.
template <int N>
__device__ __forceinline__ void wgmma_s8(int (&d)[N / 8][4], uint64_t a, uint64_t b)
{
    if constexpr (N == 128)
        asm volatile(
            "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {" WG_REGS_64 "}, %64, %65, p;\n}\n"
            : WG_D64("+r", 0)
            : "l"(a), "l"(b), "r"(1)
            : "memory");
    else
        asm volatile(
            "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8 {" WG_REGS_128 "}, %128, %129, p;\n}\n"
            : WG_D64("+r", 0), WG_D64("+r", 64)
            : "l"(a), "l"(b), "r"(1)
            : "memory");
}

}  // namespace

// Grid (ceil(outputs / WG_BN), ceil(rows / WG_BM)), WG_THREADS threads, WG_SHARED_BYTES of dynamic shared memory.
// scale is scale[n] where per_row_scale, else scale[0]; bias may be null.
TRITTER_KERNEL void __launch_bounds__(WG_THREADS, WG_MIN_BLOCKS) ternary_gemm_i8_wgmma(const int8_t* __restrict__ x,
    const float* __restrict__ row_scale, const int8_t* __restrict__ q, const float* __restrict__ scale, int per_row_scale,
    const float* __restrict__ bias, float* __restrict__ output, int rows, int k, int ld, int outputs)
{
    const int warpgroup = threadIdx.x / 128, warp = (threadIdx.x / 32) % 4, g = (threadIdx.x & 31) >> 2;
    int block_m, block_n;
    grouped_block_tile<WG_BM, WG_BN, WG_GROUP_M>(rows, block_m, block_n);
    int acc[1][WG_BN / 8][4] = {};
    wgmma_main_loop<int8_t, false, false>(x, ld, q, ld, rows, outputs, k, block_m, block_n, acc[0],
        [](int (&d)[WG_BN / 8][4], uint64_t da, uint64_t db) { wgmma_s8<WG_BN>(d, da, db); });

    const int row0 = block_m + warpgroup * 64 + warp * 16;
    for_each_accumulator_pair<1, WG_BN / 8>(rows, outputs, row0, block_n, [&](int, int j, int h, int64_t at, int column) {
        const float s_m = row_scale[row0 + g + 8 * h];
#pragma unroll
        for (int e = 0; e < 2; e++)
            if (column + e < outputs)
                output[at + e] = __fadd_rn(__fmul_rn(__int2float_rn(acc[0][j][h * 2 + e]), __fmul_rn(scale[per_row_scale ? column + e : 0], s_m)),
                                           bias != nullptr ? bias[column + e] : 0.0f);
    });
}
