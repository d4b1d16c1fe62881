// Fused ops of a decode step: each does the work of a sequence of other kernels in one launch, with their float32
// operations in their order (shared through layernorm.cuh, rope.cuh, kv_int4.cuh, sqrelu.cuh), so it writes their bits.
// CPU twin: managed/Tritter.Cpu/Ops/DecodeFused.cs.
//
// Why: a decode step replayed from a graph paid ~20 launches per layer (26 in the paper scheme), each a ramp of a few
// microseconds, against a few microseconds of weight streaming per projection; these replace 10 of them, and the
// batch-1 GEMV's epilogue (ternary_gemv.cu) two more.
//
// Floors (H query heads, Hk KV heads, head_dim D, I intermediate, d hidden, per token):
//   decode_attention_inputs_d*: read the q|k|v row, 4 (H + 2 Hk) D bytes, and write 4 H D bytes of queries and
//     2 Hk (D/2 + D/16) bytes of cache; the unfused LayerNorm x2, RoPE x2 and cache write moved q and k three times
//     more, in five launches. A warp per head row: QK-Norm's statistics over three passes of the row (the last two
//     from L1), then each lane normalises and rotates its D/32 consecutive values from both halves of the row.
//   decode_gated_sqrelu_f32: 12 bytes per output element (read gate and up, write), against 20 for squared ReLU then
//     multiply; 16-byte accesses when I is a multiple of 4. A decode step does not run it: its batch-1 gate|up GEMV
//     writes the gated activation itself (ternary_gemv.cu); batches and float32 weights do.
//   decode_add_layernorm_f32: 12 bytes per element (read a and b, write), against 20 for add then LayerNorm; a warp
//     per row, as layernorm_forward_f32, or a block per wide row (decode_add_layernorm_rows_f32, as
//     layernorm_forward_rows_f32); the sum is written to the output and normalised there, passes 2-3 from L1. With a
//     next norm (a block's post norm, then the next block's input norm: one launch where there were two), 4 bytes
//     more per element, its passes from L1.
#include "kv_int4.cuh"
#include "layernorm.cuh"
#include "rope.cuh"
#include "sqrelu.cuh"
#include "vector.cuh"

namespace {

// Warp w is row w of the q|k|v projection [tokens, H + 2 Hk, D]: query head, key head or value head r of token t.
template <int D>
__device__ __forceinline__ void attention_inputs(const float* __restrict__ qkv, const float* __restrict__ query_weight,
    const float* __restrict__ query_bias, const float* __restrict__ key_weight, const float* __restrict__ key_bias, float epsilon,
    const float* __restrict__ cosines, const float* __restrict__ sines, int tokens, int heads, int kv_heads, int capacity, int first_slot,
    uint8_t* __restrict__ key_data, __half* __restrict__ key_scales, uint8_t* __restrict__ value_data, __half* __restrict__ value_scales,
    float* __restrict__ query)
{
    constexpr int kPerLane = D / 32, kHalf = D / 2;
    const int rows_per_token = heads + 2 * kv_heads;
    const int64_t warp = global_thread() >> 5;
    if (warp >= (int64_t)tokens * rows_per_token) return;
    const int token = (int)(warp / rows_per_token), r = (int)(warp % rows_per_token);
    const int lane = threadIdx.x & 31;
    const float* x = qkv + warp * D;
    float out[kPerLane];
    const bool value = r >= heads + kv_heads;
    if (value) {
        kv_int4_load_lane<D>(x, out);
    } else {
        const bool key = r >= heads;
        const float* weight = key ? key_weight : query_weight;
        const float* bias = key ? key_bias : query_bias;
        const RowMoments m = warp_row_moments(x, D, epsilon);
        const float* c = cosines + (int64_t)token * kHalf;
        const float* s = sines + (int64_t)token * kHalf;
#pragma unroll
        for (int e = 0; e < kPerLane; e++) {
            const int j = lane * kPerLane + e, i = j % kHalf;
            const float x1 = layernorm_apply(x[i], m, weight[i], bias[i]);
            const float x2 = layernorm_apply(x[i + kHalf], m, weight[i + kHalf], bias[i + kHalf]);
            out[e] = j < kHalf ? rope_first(x1, x2, c[i], s[i]) : rope_second(x1, x2, c[i], s[i]);
        }
        if (!key) {
            float* q = query + ((int64_t)token * heads + r) * D + lane * kPerLane;
#pragma unroll
            for (int e = 0; e < kPerLane; e++) q[e] = out[e];
            return;
        }
    }
    const int head = r - heads - (value ? kv_heads : 0);
    kv_int4_store_row<D>(out, (int64_t)head * capacity + first_slot + token, value ? value_data : key_data, value ? value_scales : key_scales);
}

} // namespace

// With step_slot given (a decode step replayed from a graph), the first slot is read from it.
#define DECODE_ATTENTION_INPUTS(D)                                                                                               \
    TRITTER_KERNEL void decode_attention_inputs_d##D(const float* qkv, const float* query_weight, const float* query_bias,          \
        const float* key_weight, const float* key_bias, float epsilon, const float* cosines, const float* sines, int tokens,       \
        int heads, int kv_heads, int capacity, int first_slot, uint8_t* key_data, __half* key_scales, uint8_t* value_data,         \
        __half* value_scales, float* query, const int* step_slot)                                                                  \
    {                                                                                                                              \
        attention_inputs<D>(qkv, query_weight, query_bias, key_weight, key_bias, epsilon, cosines, sines, tokens, heads, kv_heads, \
            capacity, step_slot != nullptr ? *step_slot : first_slot, key_data, key_scales, value_data, value_scales, query);      \
    }
DECODE_ATTENTION_INPUTS(32)
DECODE_ATTENTION_INPUTS(64)
DECODE_ATTENTION_INPUTS(128)

// out[i] = sqrelu(pairs[2i]) * pairs[2i + 1] over tokens * inter outputs: the stacked gate|up product with its rows
// interleaved (gate i, up i), as the batch-1 GEMV's gated epilogue computes it for one token.
TRITTER_KERNEL void decode_gated_sqrelu_f32(const float* __restrict__ pairs, float* __restrict__ out, int64_t count)
{
    const float4* p4 = reinterpret_cast<const float4*>(pairs);
    float4* out4 = reinterpret_cast<float4*>(out);
    for_each_float4(count, aligned16(pairs) && aligned16(out),
        [&](int64_t i) {
            const float4 a = __ldcs(p4 + 2 * i), b = __ldcs(p4 + 2 * i + 1);
            out4[i] = make_float4(sqrelu_gated(a.x, a.y), sqrelu_gated(a.z, a.w), sqrelu_gated(b.x, b.y), sqrelu_gated(b.z, b.w));
        },
        [&](int64_t i) { out[i] = sqrelu_gated(pairs[2 * i], pairs[2 * i + 1]); });
}

// y = LayerNorm(a + b) per row of `width`, a warp per row; y may alias a or b (each lane reads its elements before it
// writes them). With next_weight given, also z = LayerNorm_next(y) (the next block's input norm, or the final norm), the
// bits of layernorm_forward_f32 on y.
TRITTER_KERNEL void decode_add_layernorm_f32(const float* a, const float* b, const float* __restrict__ weight, const float* __restrict__ bias,
    float* y, int rows, int width, float epsilon, const float* __restrict__ next_weight, const float* __restrict__ next_bias,
    float next_epsilon, float* __restrict__ z)
{
    const int64_t row = global_thread() >> 5;
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* ar = a + row * width;
    const float* br = b + row * width;
    float* yr = y + row * width;
    for (int i = lane; i < width; i += 32) yr[i] = __fadd_rn(ar[i], br[i]);
    const RowMoments m = warp_row_moments(yr, width, epsilon);
    for (int i = lane; i < width; i += 32) yr[i] = layernorm_apply(yr[i], m, weight[i], bias[i]);
    if (next_weight == nullptr) return;
    const RowMoments next = warp_row_moments(yr, width, next_epsilon);
    float* zr = z + row * width;
    for (int i = lane; i < width; i += 32) zr[i] = layernorm_apply(yr[i], next, next_weight[i], next_bias[i]);
}

// decode_add_layernorm_f32 for rows of KernelLaunch.BlockNormMinWidth or more, a block per row, as
// layernorm_forward_rows_f32. Each thread reads a and b at the elements it then writes, so y may alias either; each
// reads back only the elements it wrote, so the next norm needs no barrier of its own.
TRITTER_KERNEL void decode_add_layernorm_rows_f32(const float* a, const float* b, const float* __restrict__ weight,
    const float* __restrict__ bias, float* y, int width, float epsilon, const float* __restrict__ next_weight,
    const float* __restrict__ next_bias, float next_epsilon, float* __restrict__ z)
{
    __shared__ float shared32[32];
    const int64_t offset = (int64_t)blockIdx.x * width;
    const float* br = b + offset;
    float* yr = y + offset;
    for_block_row_quads(a + offset, width, [&](int i, float v) { yr[i] = __fadd_rn(v, br[i]); });
    const RowMoments m = block_row_moments(yr, width, epsilon, shared32);
    for_block_row_quads(yr, width, [&](int i, float v) { yr[i] = layernorm_apply(v, m, weight[i], bias[i]); });
    if (next_weight == nullptr) return;
    const RowMoments next = block_row_moments(yr, width, next_epsilon, shared32);
    float* zr = z + offset;
    for_block_row_quads(yr, width, [&](int i, float v) { zr[i] = layernorm_apply(v, next, next_weight[i], next_bias[i]); });
}
