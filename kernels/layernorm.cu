// LayerNorm with weight and bias over rows of `width` elements (also QK-Norm over head_dim), forward and backward.
// CPU twin: managed/Tritter.Cpu/Ops/LayerNorm.cs.
//
// Floor of layernorm_forward_f32: 8 bytes per element (read x, write y) plus 8 per row (mean, rstd) and ~7 flops per
// element. One warp per row (a block per row from KernelLaunch.BlockNormMinWidth: layernorm_forward_rows_f32) makes
// three passes over its row (sum, squared deviations, output); only the first comes from DRAM, the other two hit L1/L2. Two passes for the variance, as the CPU, avoid E[x^2] - E[x]^2 cancellation.
//
// Floor of the backward pass: 12 bytes per element (read dy and x, write dx) and ~10 flops. This implementation
// reads dy and x twice (20 bytes per element): once per row for the input gradient, once per column chunk for the
// weight and bias gradients. The parameter gradients are deterministic without atomics: each block sums a fixed chunk
// of rows per column in row order into a partial, and layernorm_param_sum adds the partials in chunk order into the
// existing gradients (the op accumulates, as the CPU does). Chunking depends only on the row count, so results are
// the same on every device.
#include "layernorm.cuh"

namespace {
constexpr int kWarpRows = 8; // rows per block of the warp-per-row kernels (KernelLaunch.WarpRowsPerBlock)

__device__ __forceinline__ int warp_row() { return blockIdx.x * kWarpRows + (threadIdx.x >> 5); }
}

TRITTER_KERNEL void layernorm_forward_f32(const float* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
    float* __restrict__ y, float* __restrict__ mean, float* __restrict__ reciprocal_std, int rows, int width, float epsilon)
{
    const int row = warp_row(), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* xr = x + (int64_t)row * width;
    float* yr = y + (int64_t)row * width;
    const RowMoments m = warp_row_moments(xr, width, epsilon);
    for (int i = lane; i < width; i += 32) yr[i] = layernorm_apply(xr[i], m, weight[i], bias[i]);
    if (lane == 0) { mean[row] = m.mean; reciprocal_std[row] = m.rstd; }
}

// layernorm_forward_f32 for rows of KernelLaunch.BlockNormMinWidth or more: a block per row.
TRITTER_KERNEL void layernorm_forward_rows_f32(const float* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
    float* __restrict__ y, float* __restrict__ mean, float* __restrict__ reciprocal_std, int width, float epsilon)
{
    __shared__ float shared32[32];
    const int row = blockIdx.x;
    const float* xr = x + (int64_t)row * width;
    float* yr = y + (int64_t)row * width;
    const RowMoments m = block_row_moments(xr, width, epsilon, shared32);
    for_block_row_quads(xr, width, [&](int i, float v) { yr[i] = layernorm_apply(v, m, weight[i], bias[i]); });
    if (threadIdx.x == 0) { mean[row] = m.mean; reciprocal_std[row] = m.rstd; }
}

// dx = rstd (dy w - mean(dy w) - xhat mean(dy w xhat)) per row (overwrites dx), one warp per row.
TRITTER_KERNEL void layernorm_backward_input_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ mean, const float* __restrict__ reciprocal_std, float* __restrict__ dx, int rows, int width)
{
    const int row = warp_row(), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int64_t offset = (int64_t)row * width;
    const float mu = mean[row], rstd = reciprocal_std[row];
    float sum = 0.0f, dot = 0.0f;
    for (int i = lane; i < width; i += 32) {
        const float g = __fmul_rn(dy[offset + i], weight[i]);
        const float xhat = __fmul_rn(__fsub_rn(x[offset + i], mu), rstd);
        sum += g;
        dot = fmaf(g, xhat, dot);
    }
    const float mean_gradient = __fdiv_rn(warp_sum(sum), (float)width);
    const float mean_gradient_xhat = __fdiv_rn(warp_sum(dot), (float)width);
    for (int i = lane; i < width; i += 32) {
        const float g = __fmul_rn(dy[offset + i], weight[i]);
        const float xhat = __fmul_rn(__fsub_rn(x[offset + i], mu), rstd);
        dx[offset + i] = __fmul_rn(__fsub_rn(__fsub_rn(g, mean_gradient), __fmul_rn(xhat, mean_gradient_xhat)), rstd);
    }
}

// Grid (column blocks, row chunks): partials[chunk][column] = sum over the chunk's rows of dy xhat (weight) and, after
// gridDim.y * width of those, sum of dy (bias). A thread per column, rows in order.
TRITTER_KERNEL void layernorm_param_partials_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ reciprocal_std, float* __restrict__ partials, int rows, int width, int rows_per_chunk)
{
    const int column = blockIdx.x * blockDim.x + threadIdx.x;
    if (column >= width) return;
    const int first = blockIdx.y * rows_per_chunk, last = min(rows, first + rows_per_chunk);
    float weight_sum = 0.0f, bias_sum = 0.0f;
    for (int n = first; n < last; n++) {
        const int64_t at = (int64_t)n * width + column;
        const float g = dy[at];
        const float xhat = __fmul_rn(__fsub_rn(x[at], mean[n]), reciprocal_std[n]);
        weight_sum = fmaf(xhat, g, weight_sum);
        bias_sum = __fadd_rn(bias_sum, g);
    }
    partials[(int64_t)blockIdx.y * width + column] = weight_sum;
    partials[((int64_t)gridDim.y + blockIdx.y) * width + column] = bias_sum;
}

// weight_gradient[c] += sum of the chunks' weight partials; the same for the bias. A warp per column: lane l sums chunks
// l, l + 32, ... in order, then the warp adds its lanes in a fixed tree, so the order depends only on the chunk count.
TRITTER_KERNEL void layernorm_param_sum_f32(const float* __restrict__ partials, int chunks, int width,
    float* __restrict__ weight_gradient, float* __restrict__ bias_gradient)
{
    const int column = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (column >= width) return;
    float weight_sum = 0.0f, bias_sum = 0.0f;
    // Sixteen chunks' loads in flight before their adds (the adds keep their order): the loads are the latency.
#pragma unroll 16
    for (int k = lane; k < chunks; k += 32) {
        weight_sum = __fadd_rn(weight_sum, partials[(int64_t)k * width + column]);
        bias_sum = __fadd_rn(bias_sum, partials[((int64_t)chunks + k) * width + column]);
    }
    weight_sum = warp_sum(weight_sum);
    bias_sum = warp_sum(bias_sum);
    if (lane != 0) return;
    weight_gradient[column] = __fadd_rn(weight_gradient[column], weight_sum);
    bias_gradient[column] = __fadd_rn(bias_gradient[column], bias_sum);
}
