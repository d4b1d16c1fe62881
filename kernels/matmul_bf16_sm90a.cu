// The dense bf16 products of a linear layer on Hopper's warpgroup MMA (wgmma.mma_async, operands read from shared
// memory through matrix descriptors, fp32 accumulators): what CudaBackend runs in place of matmul_bf16.cu's mma.sync
// kernels on compute capability 9.0, the one device kind that has wgmma (SM_120 does not). The same kernels' contract:
// forward Y = X W^T + b (+ R), input gradient dX (+)= dY W, weight gradient dW (+)= dY^T X (split-K stays mma.sync).
//
// Build: build.cake compiles *_sm90a.cu for compute_90 only and retargets the PTX to `.target sm_90a` (and PTX ISA 8.0,
// the first with wgmma) as matmul_bf16_sm90a.compute_90a.ptx: nvcc 11.8 knows no compute_90a, but `nvcc -ptx` does not
// assemble and passes inline asm through verbatim, so every Hopper instruction here is inline PTX.
// bench/anchors/build_wgmma_sweep.sh builds tile variants (WG_BM, WG_BN, WG_STAGES) for matmul_wgmma_sweep.py.
//
// C[M, N] = A[M, K] B[K, N] (+ bias[N]) (+ addend[M, N]): operands bf16, row-major, rows padded with zeros to a multiple
// of 8 (as matmul_to_bf16 leaves them), so every 16-byte chunk lies wholly inside or outside a row. Each operand is
// K-major (its rows run along K: X and W in the forward product, dY as dX's A) or MN-major (its rows are K's: W as dX's
// B, dY and X in dW); C float32 row-major [M, N].
//
// Floor: 2 M N K flops at wgmma's dense bf16 rate, ~989 TFLOP/s on an H100 SXM (132 SMs at 1.83 GHz, 4,096 flops per
// SM per clock), against mma.sync's ~650 (peak.cu) of which matmul_bf16.cu reaches 342. Memory is no limit: a
// 128 x 256 tile reads (128 + 256) * 2 bytes per k for 2 * 128 * 256 flops (85 flops per byte).
//
// Design (the pipeline, the layouts, the descriptors): wgmma.cuh, which ternary_gemm_sm90a.cu shares.
#include "matmul_store.cuh"
#include "wgmma.cuh"

namespace {

// D += A B for one k16 step: A 64 x 16 at descriptor a, B 16 x N at descriptor b, each K-major (imm-trans 0) or
// MN-major (1, which bf16 operands in shared memory allow), scales 1, and scale-d true (the accumulators start at zero
// or at C) through a predicate set from a register, as ptxas expects it.
template <int N, bool AMN, bool BMN>
__device__ __forceinline__ void wgmma(float (&d)[N / 8][4], uint64_t a, uint64_t b)
{
    if constexpr (N == 128)
        asm volatile(
            "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" WG_REGS_64 "}, %64, %65, p, 1, 1, %67, %68;\n}\n"
            : WG_D64("+f", 0)
            : "l"(a), "l"(b), "r"(1), "n"(AMN ? 1 : 0), "n"(BMN ? 1 : 0)
            : "memory");
    else
        asm volatile(
            "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {" WG_REGS_128 "}, %128, %129, p, 1, 1, %131, %132;\n}\n"
            : WG_D64("+f", 0), WG_D64("+f", 64)
            : "l"(a), "l"(b), "r"(1), "n"(AMN ? 1 : 0), "n"(BMN ? 1 : 0)
            : "memory");
}

// C[m, n] = A B (+ bias[n]) (+ addend[m, n], which starts the accumulators, as matmul_bf16.cu's; C itself for C += A B)
// over k; bias and addend may be null. A is K-major with rows of lda (m rows) unless AMN (k rows), B likewise.
template <bool AMN, bool BMN>
__device__ __forceinline__ void gemm_wgmma(const uint16_t* __restrict__ a, int lda, const uint16_t* __restrict__ b, int ldb,
    const float* __restrict__ bias, const float* addend, float* c, int m, int n, int k)
{
    const int warpgroup = threadIdx.x / 128, warp = (threadIdx.x / 32) % 4;
    int block_m, block_n;
    grouped_block_tile<WG_BM, WG_BN, WG_GROUP_M>(m, block_m, block_n);
    float acc[1][WG_BN / 8][4] = {};
    const int row0 = block_m + warpgroup * 64 + warp * 16;
    if (addend != nullptr)
        load_accumulators<1, WG_BN / 8>(acc, addend, m, n, row0, block_n);
    wgmma_main_loop<uint16_t, AMN, BMN>(a, lda, b, ldb, m, n, k, block_m, block_n, acc[0],
        [](float (&d)[WG_BN / 8][4], uint64_t da, uint64_t db) { wgmma<WG_BN, AMN, BMN>(d, da, db); });
    store_accumulators<1, WG_BN / 8>(acc, c, bias, m, n, row0, block_n);
}

}  // namespace

// Every kernel: grid (ceil(n / WG_BN), ceil(m / WG_BM)) over its output C[m, n], WG_THREADS threads, WG_SHARED_BYTES of
// dynamic shared memory; the arguments of its matmul_bf16.cu twin (the name without _wgmma).
#define WG_KERNEL TRITTER_KERNEL void __launch_bounds__(WG_THREADS, WG_MIN_BLOCKS)

// output[rows, out] = input[rows, in] weight[out, in]^T + bias[out] (bias may be null).
WG_KERNEL matmul_forward_bf16_wgmma(const uint16_t* __restrict__ input, const uint16_t* __restrict__ weight, const float* __restrict__ bias,
    float* __restrict__ output, int rows, int in_features, int out_features, int ld_in)
{
    gemm_wgmma<false, false>(input, ld_in, weight, ld_in, bias, nullptr, output, rows, out_features, in_features);
}

// The same plus residual[rows, out]: a projection whose output joins a residual stream.
WG_KERNEL matmul_forward_residual_bf16_wgmma(const uint16_t* __restrict__ input, const uint16_t* __restrict__ weight,
    const float* __restrict__ bias, const float* __restrict__ residual, float* __restrict__ output, int rows, int in_features, int out_features, int ld_in)
{
    gemm_wgmma<false, false>(input, ld_in, weight, ld_in, bias, residual, output, rows, out_features, in_features);
}

// input_gradient[rows, in] = output_gradient[rows, out] weight[out, in]: dY K-major, W MN-major.
WG_KERNEL matmul_input_gradient_bf16_wgmma(const uint16_t* __restrict__ output_gradient, const uint16_t* __restrict__ weight,
    float* __restrict__ input_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_wgmma<false, true>(output_gradient, ld_out, weight, ld_in, nullptr, nullptr, input_gradient, rows, in_features, out_features);
}

// input_gradient += output_gradient weight: dX onto the gradient another consumer of the input left there.
WG_KERNEL matmul_input_gradient_add_bf16_wgmma(const uint16_t* __restrict__ output_gradient, const uint16_t* __restrict__ weight,
    float* input_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_wgmma<false, true>(output_gradient, ld_out, weight, ld_in, nullptr, input_gradient, input_gradient, rows, in_features, out_features);
}

// weight_gradient[out, in] += output_gradient[rows, out]^T input[rows, in]: both operands MN-major, k = rows.
WG_KERNEL matmul_weight_gradient_bf16_wgmma(const uint16_t* __restrict__ output_gradient, const uint16_t* __restrict__ input,
    float* weight_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_wgmma<true, true>(output_gradient, ld_out, input, ld_in, nullptr, weight_gradient, weight_gradient, out_features, in_features, rows);
}

// weight_gradient = output_gradient^T input: the first of a step's dW chunks, overwriting.
WG_KERNEL matmul_weight_gradient_set_bf16_wgmma(const uint16_t* __restrict__ output_gradient, const uint16_t* __restrict__ input,
    float* __restrict__ weight_gradient, int rows, int in_features, int out_features, int ld_out, int ld_in)
{
    gemm_wgmma<true, true>(output_gradient, ld_out, input, ld_in, nullptr, nullptr, weight_gradient, out_features, in_features, rows);
}
