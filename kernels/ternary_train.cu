// BitNet b1.58 quantisers for training (ITernaryOps), and training on packed 2-bit weights (IPackedTernaryTrainingOps).
// The W1.58A8 products are in ternary_gemm.cu. CPU twin: managed/Tritter.Cpu/Ops/Ternary.cs.
//
// Agreement with the CPU: every rounding step is spelled out (__fmul_rn, __fdiv_rn, __fadd_rn) so that nvcc cannot
// contract it into an FMA, and rintf rounds half to even as MathF.Round does. Where the inputs of a step match, the
// outputs match bit for bit: the quantised activations, the effective weights given the threshold, the weight
// gradient. Only the reductions (mean|w|, sum(dEff q)) add in another order than the CPU's vector lanes; they are
// deterministic here (fixed block sizes, fixed chunks), so a rerun gives the same bits. Codes pass through int, as the CPU's sbyte, so that a small negative input gives +0, not rintf's -0, after scaling.
//
// Floors: the quantisers are bandwidth-bound, 6 to 16 bytes per weight (read w, write the effective weight, and the
// int8 code or the gradients); each re-reads its row from L1/L2 for the second pass. The packed input gradient is
// 2 M N K float operations on the FMA units (no tensor cores, so that it matches the CPU bit for bit), reading the
// weights as 2 bits each.
#include <cuda_bf16.h>
#include "bf16.cuh"
#include "reduce.cuh"

namespace {
constexpr float kMinimumScale = 1e-5f; // Ternary.MinimumScale: the smallest mean or absmax a quantiser divides by
constexpr int kMeanChunk = 4096;       // elements per partial sum of mean|W| (the CPU sums blocks of 4096 too)

__device__ __forceinline__ float ternary_sign(float w, float alpha) { return fabsf(w) > alpha ? copysignf(1.0f, w) : 0.0f; }

// Rows of a multiple of 4 floats (every preset's) are read and written 16 bytes a thread at a time: four times the
// bytes in flight of a float a thread, which is what keeps these one-block-per-row kernels near the copy bandwidth.
// Either way a block adds in a fixed order, so the result is deterministic.
__device__ __forceinline__ bool row_vectors(const float* row, int width) { return (width & 3) == 0 && aligned16(row); }

__device__ __forceinline__ float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }

__device__ __forceinline__ void store4(float* p, float a, float b, float c, float d) { *reinterpret_cast<float4*>(p) = make_float4(a, b, c, d); }

__device__ __forceinline__ void store4(__nv_bfloat16* p, float a, float b, float c, float d) { store_bf16x4(p, a, b, c, d); }

// sum |row[i]| / width over one block; its order of additions depends on the row alone, so every quantiser of a row
// (ternarize_rows_*, their backward, ternary_pack_rows_f32) draws the same threshold.
__device__ __forceinline__ float row_threshold(const float* row, int width, float* shared32)
{
    float sum = 0.0f;
    if (row_vectors(row, width))
        for (int i = 4 * threadIdx.x; i < width; i += 4 * blockDim.x)
        {
            const float4 w = load4(row + i);
            sum = __fadd_rn(__fadd_rn(__fadd_rn(__fadd_rn(sum, fabsf(w.x)), fabsf(w.y)), fabsf(w.z)), fabsf(w.w));
        }
    else
        for (int i = threadIdx.x; i < width; i += blockDim.x) sum = __fadd_rn(sum, fabsf(row[i]));
    return __fdiv_rn(block_sum(sum, shared32), (float)width);
}
}

// One block per row: effective[r, i] = sign(w) * scale[r] where |w| > mean|w_r|, else 0; stored as float32 or, for the
// bf16 products of matmul_bf16.cu, as bf16 (sign times scale rounded to nearest even: the bits matmul_to_bf16 would
// make of the float32 value).
template <typename Effective>
__device__ __forceinline__ void ternarize_rows(const float* __restrict__ weight, const float* __restrict__ scale, Effective* __restrict__ effective,
                                               int width)
{
    __shared__ float sums[32];
    const int64_t offset = (int64_t)blockIdx.x * width;
    const float* row = weight + offset;
    Effective* out = effective + offset;
    const bool vectors = row_vectors(row, width) && aligned16(out);
    const float alpha = row_threshold(row, width, sums);
    const float s = scale[blockIdx.x];
    if (vectors)
        for (int i = 4 * threadIdx.x; i < width; i += 4 * blockDim.x)
        {
            const float4 w = load4(row + i);
            store4(out + i, __fmul_rn(ternary_sign(w.x, alpha), s), __fmul_rn(ternary_sign(w.y, alpha), s), __fmul_rn(ternary_sign(w.z, alpha), s),
                __fmul_rn(ternary_sign(w.w, alpha), s));
        }
    else
        for (int i = threadIdx.x; i < width; i += blockDim.x) out[i] = Effective(__fmul_rn(ternary_sign(row[i], alpha), s));
}

TRITTER_KERNEL void ternarize_rows_f32(const float* __restrict__ weight, const float* __restrict__ scale,
                                       float* __restrict__ effective, int width)
{
    ternarize_rows(weight, scale, effective, width);
}

TRITTER_KERNEL void ternarize_rows_bf16(const float* __restrict__ weight, const float* __restrict__ scale,
                                        __nv_bfloat16* __restrict__ effective, int width)
{
    ternarize_rows(weight, scale, effective, width);
}

namespace {

// One block per row: weight_gradient (+)= dEff * scale[r]; scale_gradient[r] (+)= sum(dEff * q), overwritten for
// Overwrite (the first contribution of a step, which spares the clearing of the gradients and their read here).
template <bool Overwrite>
__device__ __forceinline__ void ternarize_rows_backward(const float* __restrict__ weight, const float* __restrict__ effective_gradient,
    const float* __restrict__ scale, float* __restrict__ weight_gradient, float* __restrict__ scale_gradient, int width)
{
    __shared__ float sums[32];
    const int64_t offset = (int64_t)blockIdx.x * width;
    const float* row = weight + offset;
    const float* g = effective_gradient + offset;
    float* dw = weight_gradient + offset;
    const bool vectors = row_vectors(row, width) && aligned16(g) && aligned16(dw);
    const float alpha = row_threshold(row, width, sums);
    const float s = scale[blockIdx.x];
    float dot = 0.0f;
    if (vectors)
        for (int i = 4 * threadIdx.x; i < width; i += 4 * blockDim.x)
        {
            const float4 w = load4(row + i), e = load4(g + i);
            const float4 d = Overwrite ? make_float4(0.0f, 0.0f, 0.0f, 0.0f) : load4(dw + i);
            store4(dw + i, __fadd_rn(d.x, __fmul_rn(e.x, s)), __fadd_rn(d.y, __fmul_rn(e.y, s)), __fadd_rn(d.z, __fmul_rn(e.z, s)),
                __fadd_rn(d.w, __fmul_rn(e.w, s)));
            dot = __fadd_rn(dot, __fmul_rn(e.x, ternary_sign(w.x, alpha)));
            dot = __fadd_rn(dot, __fmul_rn(e.y, ternary_sign(w.y, alpha)));
            dot = __fadd_rn(dot, __fmul_rn(e.z, ternary_sign(w.z, alpha)));
            dot = __fadd_rn(dot, __fmul_rn(e.w, ternary_sign(w.w, alpha)));
        }
    else
        for (int i = threadIdx.x; i < width; i += blockDim.x)
        {
            dw[i] = __fadd_rn(Overwrite ? 0.0f : dw[i], __fmul_rn(g[i], s));
            dot = __fadd_rn(dot, __fmul_rn(g[i], ternary_sign(row[i], alpha)));
        }
    dot = block_sum(dot, sums);
    if (threadIdx.x == 0) scale_gradient[blockIdx.x] = __fadd_rn(Overwrite ? 0.0f : scale_gradient[blockIdx.x], dot);
}

}  // namespace

TRITTER_KERNEL void ternarize_rows_backward_f32(const float* __restrict__ weight, const float* __restrict__ effective_gradient,
                                                const float* __restrict__ scale, float* __restrict__ weight_gradient,
                                                float* __restrict__ scale_gradient, int width)
{
    ternarize_rows_backward<false>(weight, effective_gradient, scale, weight_gradient, scale_gradient, width);
}

TRITTER_KERNEL void ternarize_rows_backward_set_f32(const float* __restrict__ weight, const float* __restrict__ effective_gradient,
                                                    const float* __restrict__ scale, float* __restrict__ weight_gradient,
                                                    float* __restrict__ scale_gradient, int width)
{
    ternarize_rows_backward<true>(weight, effective_gradient, scale, weight_gradient, scale_gradient, width);
}

// First pass of mean|W|: partials[b] = sum |w| over chunk b of kMeanChunk elements, one block per chunk.
TRITTER_KERNEL void ternary_magnitude_partials_f32(const float* __restrict__ weight, int64_t count, float* __restrict__ partials)
{
    __shared__ float sums[32];
    const int64_t first = (int64_t)blockIdx.x * kMeanChunk;
    const int64_t last = min(count, first + kMeanChunk);
    float sum = 0.0f;
    for (int64_t i = first + threadIdx.x; i < last; i += blockDim.x) sum = __fadd_rn(sum, fabsf(weight[i]));
    sum = block_sum(sum, sums);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// Second pass, one block: gamma = max(sum of the partials (in float64, as the CPU adds its blocks) / count, 1e-5).
TRITTER_KERNEL void ternary_gamma_f32(const float* __restrict__ partials, int chunks, int64_t count, float* __restrict__ gamma)
{
    __shared__ double sums[32];
    double sum = 0.0;
    for (int i = threadIdx.x; i < chunks; i += blockDim.x) sum += partials[i];
    sum = block_sum(sum, sums);
    if (threadIdx.x == 0) gamma[0] = fmaxf((float)(sum / (double)count), kMinimumScale);
}

// q = clamp(round(w * (1 / gamma)), -1, 1) as int8, effective = q * gamma; grid-stride.
TRITTER_KERNEL void ternarize_tensor_f32(const float* __restrict__ weight, const float* __restrict__ gamma, int64_t count,
                                         int8_t* __restrict__ quantized, float* __restrict__ effective)
{
    const float g = gamma[0];
    const float inverse = __fdiv_rn(1.0f, g);
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const int q = (int)fminf(fmaxf(rintf(__fmul_rn(weight[i], inverse)), -1.0f), 1.0f);
        quantized[i] = (int8_t)q;
        effective[i] = __fmul_rn((float)q, g);
    }
}

// One block per row: s = max(max|x|, 1e-5) / 127, q = clamp(round(x * (127 / max|x|)), -127, 127), dequantized = q * s.
TRITTER_KERNEL void quantize_activations_f32(const float* __restrict__ input, int width, int8_t* __restrict__ quantized,
                                             float* __restrict__ row_scale, float* __restrict__ dequantized)
{
    __shared__ float peaks[32];
    const int64_t offset = (int64_t)blockIdx.x * width;
    float peak = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) peak = fmaxf(peak, fabsf(input[offset + i]));
    const float abs_max = fmaxf(block_max(peak, peaks), kMinimumScale);
    const float to_int = __fdiv_rn(127.0f, abs_max);
    const float s = __fdiv_rn(abs_max, 127.0f);
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        const int q = (int)fminf(fmaxf(rintf(__fmul_rn(input[offset + i], to_int)), -127.0f), 127.0f);
        quantized[offset + i] = (int8_t)q;
        dequantized[offset + i] = __fmul_rn((float)q, s);
    }
    if (threadIdx.x == 0) row_scale[blockIdx.x] = s;
}

// Training on packed weights (IPackedTernaryTrainingOps). Canonical packing (docs/formats/ternary-packing.md): 16 codes
// per word, weight k of a row at bits 2 (k mod 16) of word k / 16, 00 = 0, 01 = +1, 10 = -1, rows padded with zeros.

// One block per row: the codes of ternarize_rows_f32, packed; a thread per word.
TRITTER_KERNEL void ternary_pack_rows_f32(const float* __restrict__ weight, int columns, int words_per_row, uint32_t* __restrict__ packed)
{
    __shared__ float sums[32];
    const float* row = weight + (int64_t)blockIdx.x * columns;
    const float alpha = row_threshold(row, columns, sums);
    for (int word = threadIdx.x; word < words_per_row; word += blockDim.x) {
        uint32_t bits = 0;
        for (int j = 0; j < 16; j++) {
            const int column = word * 16 + j;
            if (column >= columns) break;
            const float s = ternary_sign(row[column], alpha);
            bits |= (s > 0.0f ? 1u : s < 0.0f ? 2u : 0u) << (2 * j);
        }
        packed[(int64_t)blockIdx.x * words_per_row + word] = bits;
    }
}

// input_gradient[m, k] = sum_n (output_gradient[m, n] scale(n)) q[n, k], overwritten. Block tile 64 rows x 64 columns,
// 256 threads of 4 x 4; n in chunks of 32 through shared memory: the coefficients dY * scale (transposed, so a thread
// reads its 4 rows as one float4) and the codes decoded from 2 bits to floats. Each element adds its terms in n order,
// one rounding per term, exactly as the CPU twin does, so the two agree bit for bit.
namespace {
constexpr int kGradientTile = 64; // KernelLaunch.PackedGradientTile
constexpr int kGradientChunk = 32;
}

TRITTER_KERNEL void __launch_bounds__(256) ternary_packed_input_gradient_f32(const float* __restrict__ output_gradient,
    const uint32_t* __restrict__ packed, int words_per_row, const float* __restrict__ scale, int per_row_scale,
    float* __restrict__ input_gradient, int rows, int columns, int outputs)
{
    __shared__ __align__(16) float coefficients[kGradientChunk][kGradientTile];
    __shared__ __align__(16) float codes[kGradientChunk][kGradientTile];
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const int first_row = blockIdx.y * kGradientTile, first_column = blockIdx.x * kGradientTile;
    float acc[4][4] = {};
    for (int n0 = 0; n0 < outputs; n0 += kGradientChunk) {
        for (int i = threadIdx.x; i < kGradientChunk * kGradientTile; i += blockDim.x) {
            const int n = i % kGradientChunk, m = i / kGradientChunk;
            const int feature = n0 + n, row = first_row + m;
            coefficients[n][m] = feature < outputs && row < rows
                ? __fmul_rn(output_gradient[(int64_t)row * outputs + feature], scale[per_row_scale ? feature : 0]) : 0.0f;
        }
        if (threadIdx.x < kGradientChunk * 4) {
            const int n = threadIdx.x >> 2, word = threadIdx.x & 3;
            const int feature = n0 + n;
            const uint32_t bits = feature < outputs ? packed[(int64_t)feature * words_per_row + first_column / 16 + word] : 0u;
            for (int j = 0; j < 16; j++) {
                const uint32_t code = (bits >> (2 * j)) & 3u;
                codes[n][word * 16 + j] = code == 1u ? 1.0f : code == 2u ? -1.0f : 0.0f;
            }
        }
        __syncthreads();
        const int chunk = min(kGradientChunk, outputs - n0);
        for (int n = 0; n < chunk; n++) {
            const float4 c = *reinterpret_cast<const float4*>(&coefficients[n][ty * 4]);
            const float4 q = *reinterpret_cast<const float4*>(&codes[n][tx * 4]);
            const float cs[4] = {c.x, c.y, c.z, c.w}, qs[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(cs[i], qs[j]));
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int row = first_row + ty * 4 + i;
        if (row >= rows) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int column = first_column + tx * 4 + j;
            if (column < columns) input_gradient[(int64_t)row * columns + column] = acc[i][j];
        }
    }
}
