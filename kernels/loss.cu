// Training losses fused with their gradients: softmax cross-entropy and squared error; target id 0 (padding) gets loss
// 0 and gradient 0. CPU twin: managed/Tritter.Cpu/Ops/Loss.cs.
//
// Floor of cross_entropy_f32: 8 bytes per logit (read the logits, write the gradient) and ~4 flops plus one exp. A
// block makes three passes over a row (max, sum of exp, gradient); a row of 65536 logits is 256 KiB, so the second and
// third reads come from L2 as long as the rows in flight fit there (see the kernel). The CPU's sequence: max,
// exp(x - max), sum, loss = max + log(sum) - x[target], gradient = exp(x - max) * (scale / sum), minus scale at the
// target.
//
// Floor of squared_error_f32: 16 bytes per element (read prediction and target, write both gradients), 4 flops; one
// warp per row.
#include "reduce.cuh"

namespace {
constexpr int kPaddingId = 0;
constexpr int kWarpRows = 8; // rows per block of the warp-per-row kernel (KernelLaunch.WarpRowsPerBlock)
}

// Blocks loop over the rows (KernelLaunch.CrossEntropy: a block of 1024 threads per SM), so that the rows in flight
// (132 x 256 KiB at vocab 65536 on an H100) fit in L2 and the second and third passes read them from there; with a
// block per row, a 512-row chunk was resident at once (128 MiB) and every pass came from DRAM. A target outside
// [0, vocab) is reported (kind 2) and its row treated as padding.
TRITTER_KERNEL void __launch_bounds__(1024) cross_entropy_f32(const float* __restrict__ logits, const int* __restrict__ targets,
    float* __restrict__ losses, float* __restrict__ logits_gradient, int rows, int vocab, float gradient_scale, int* target_error)
{
    __shared__ float shared[32];
    const bool vectors = (vocab & 3) == 0 && aligned16(logits) && aligned16(logits_gradient);
    const int quads = vectors ? vocab / 4 : 0;
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* x = logits + row * vocab;
        float* g = logits_gradient + row * vocab;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        float4* g4 = reinterpret_cast<float4*>(g);
        const int target = targets[row];
        const bool valid = (unsigned)target < (unsigned)vocab;
        if (!valid && threadIdx.x == 0) check_id(target, vocab, 2, row, target_error);
        if (target == kPaddingId || !valid) {
            for (int c = threadIdx.x; c < vocab; c += blockDim.x) g[c] = 0.0f;
            if (threadIdx.x == 0) losses[row] = 0.0f;
            continue;
        }
        float max_logit = -INFINITY;
#pragma unroll 4
        for (int q = threadIdx.x; q < quads; q += blockDim.x) {
            const float4 v = x4[q];
            max_logit = fmaxf(max_logit, fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w)));
        }
        for (int c = 4 * quads + threadIdx.x; c < vocab; c += blockDim.x) max_logit = fmaxf(max_logit, x[c]);
        max_logit = block_max(max_logit, shared);
        float sum = 0.0f;
#pragma unroll 4
        for (int q = threadIdx.x; q < quads; q += blockDim.x) {
            const float4 v = x4[q];
            sum += expf(__fsub_rn(v.x, max_logit)) + expf(__fsub_rn(v.y, max_logit)) + expf(__fsub_rn(v.z, max_logit)) + expf(__fsub_rn(v.w, max_logit));
        }
        for (int c = 4 * quads + threadIdx.x; c < vocab; c += blockDim.x) sum += expf(__fsub_rn(x[c], max_logit));
        sum = block_sum(sum, shared);
        const float factor = __fdiv_rn(gradient_scale, sum);
        auto gradient = [&](float logit, int c) {
            const float p = __fmul_rn(expf(__fsub_rn(logit, max_logit)), factor);
            return c == target ? __fsub_rn(p, gradient_scale) : p;
        };
#pragma unroll 4
        for (int q = threadIdx.x; q < quads; q += blockDim.x) {
            const float4 v = x4[q];
            g4[q] = make_float4(gradient(v.x, 4 * q), gradient(v.y, 4 * q + 1), gradient(v.z, 4 * q + 2), gradient(v.w, 4 * q + 3));
        }
        for (int c = 4 * quads + threadIdx.x; c < vocab; c += blockDim.x) g[c] = gradient(x[c], c);
        if (threadIdx.x == 0) losses[row] = __fsub_rn(__fadd_rn(max_logit, logf(sum)), x[target]);
    }
}

// One warp per row: losses[n] = sum (p - t)^2, prediction_gradient = scale * 2 * (p - t), target_gradient = its negation.
TRITTER_KERNEL void squared_error_f32(const float* __restrict__ prediction, const float* __restrict__ target, const int* __restrict__ target_ids,
    float* __restrict__ losses, float* __restrict__ prediction_gradient, float* __restrict__ target_gradient, int rows, int width,
    float gradient_scale)
{
    const int row = blockIdx.x * kWarpRows + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int64_t offset = (int64_t)row * width;
    const bool padding = target_ids[row] == kPaddingId;
    const float twice_scale = __fmul_rn(gradient_scale, 2.0f);
    float sum = 0.0f;
    for (int i = lane; i < width; i += 32) {
        const float diff = __fsub_rn(prediction[offset + i], target[offset + i]);
        const float g = padding ? 0.0f : __fmul_rn(twice_scale, diff);
        sum = fmaf(diff, diff, sum);
        prediction_gradient[offset + i] = g;
        target_gradient[offset + i] = padding ? 0.0f : -g;
    }
    sum = warp_sum(sum);
    if (lane == 0) losses[row] = padding ? 0.0f : sum;
}
