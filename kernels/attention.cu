// Training attention, flash-attention style: grouped-query heads, the five masks of AttentionMask, forward and backward,
// with no seq x seq matrix in device memory. CPU twin: managed/Tritter.Cpu/Ops/Attention.cs.
//
// q [batch, seq, heads, D], k and v [batch, seq, kv_heads, D]; query head h reads kv head h / (heads / kv_heads).
// Scores are q.k * scale. The forward pass keeps, per query row, the log-sum-exp of its visible scores (lse, float32
// [batch, heads, seq]); the backward pass recomputes P = exp(score - lse) tile by tile.
//
// Tiles are 64 query rows by 64 key rows, staged in shared memory. Rows are padded to D + 4 floats: 16-byte loads
// along a row stay aligned, and the 8 threads of a quarter-warp reading 8 different rows at one column start 4 banks
// apart, so each 128-bit shared load is one conflict-free wavefront. A block of 256 threads is a 16 x 16 grid;
// thread (ty, tx) owns the 4 x 4 scores of rows ty + 16i and columns tx + 16j of a tile, and, of a 64 x D accumulator,
// rows ty + 16i and columns tx + 16c. Row reductions of the online softmax run over the 16 lanes sharing ty.
// Math is float32 on the CUDA cores (no tensor cores yet): the results differ from the CPU twin only by summation order.
//
// Floor: compute. A causal forward must do 2 T^2 d flops per head (half of QK^T and PV), a causal backward 5 T^2 d
// (QK^T, dO V^T, P^T dO, dS^T Q, dS K); this backward does 7, recomputing QK^T and dO V^T in both of its passes to stay
// free of atomics. On an H100 (7B shape, 32/8 heads, d 128, 2K-4K tokens) it reaches 15-17 TFLOP/s forward and
// 12-15 backward, against the CUDA cores' ~67 TFLOP/s float32 peak; PyTorch's float32 SDPA reaches 38-43 and 30-34.
//
// The backward pass is deterministic and atomic-free: attention_backward_delta computes D = rowsum(dO * O);
// attention_backward_kv runs one block per (key tile, kv head, batch) and accumulates dK and dV over every query head
// of the group and every query tile that can see the key tile, in a fixed order; attention_backward_q runs one block
// per (query tile, head, batch) over the key tiles. Tiles that the mask hides entirely (above the causal diagonal,
// outside the sliding window) are skipped by the loop bounds.
#include "reduce.cuh"

namespace {
constexpr int kTile = 64;    // query and key rows per tile (KernelLaunch.AttentionTile)
constexpr int kThreads = 256; // 16 x 16 threads (KernelLaunch.AttentionThreads)
constexpr int kScoreStride = kTile + 4;

// AttentionMode's order: Causal, Bidirectional, PrefixLm, SlidingWindow, DocumentBoundary.
enum Mode { kCausal = 0, kBidirectional = 1, kPrefixLm = 2, kSlidingWindow = 3, kDocument = 4 };

struct Mask
{
    int mode, window, prefix, seq;
    const int* segments; // [batch, seq] of this call, or null outside document mode

    // AttentionMask.IsVisible, plus the bounds of the sequence (tiles overhang its end).
    __device__ __forceinline__ bool visible(int q, int k, int query_segment, int key_segment) const
    {
        if (q >= seq || k >= seq) return false;
        switch (mode)
        {
        case kBidirectional: return true;
        case kPrefixLm: return k <= q || k < prefix;
        case kSlidingWindow: return k <= q && q - k < window;
        case kDocument: return k <= q && query_segment == key_segment;
        default: return k <= q;
        }
    }

    // The key tiles query rows [q0, q0 + kTile) may see: [first, last).
    __device__ __forceinline__ void key_tiles(int q0, int& first, int& last) const
    {
        const int q1 = min(q0 + kTile, seq);
        int end = q1, begin = 0;
        if (mode == kBidirectional) end = seq;
        else if (mode == kPrefixLm) end = max(q1, min(prefix, seq));
        else if (mode == kSlidingWindow) begin = max(0, q0 - window + 1);
        first = begin / kTile;
        last = (end + kTile - 1) / kTile;
    }

    // The query tiles that may see key rows [k0, k0 + kTile): [first, last).
    __device__ __forceinline__ void query_tiles(int k0, int& first, int& last) const
    {
        const int k1 = min(k0 + kTile, seq);
        int begin = k0, end = seq;
        if (mode == kBidirectional || (mode == kPrefixLm && k0 < prefix)) begin = 0;
        else if (mode == kSlidingWindow) end = (int)min((int64_t)seq, (int64_t)k1 - 1 + window);
        first = begin / kTile;
        last = (end + kTile - 1) / kTile;
    }

    __device__ __forceinline__ int segment(int b, int t) const { return segments != nullptr && t < seq ? segments[(int64_t)b * seq + t] : 0; }
};

template <int D>
struct Layout
{
    static constexpr int kStride = D + 4;
    static constexpr int kRows = kTile * kStride; // floats of one staged tile
    static constexpr int kCols = D / 16;          // accumulator columns per thread
};

// Stages rows [first, first + kTile) of one head into dst (zeros past the sequence); src points at (b, 0, head, 0)
// and consecutive positions are row_stride floats apart.
template <int D>
__device__ __forceinline__ void load_tile(float* dst, const float* __restrict__ src, int64_t row_stride, int first, int seq)
{
    for (int i = threadIdx.x; i < kTile * D; i += kThreads)
    {
        const int r = i / D, c = i % D;
        dst[r * Layout<D>::kStride + c] = first + r < seq ? src[(int64_t)(first + r) * row_stride + c] : 0.0f;
    }
}

// s[i][j] = a_row(ty + 16i) . b_row(tx + 16j) over D columns of two staged tiles.
template <int D>
__device__ __forceinline__ void tile_dot(const float* a, const float* b, float (&s)[4][4])
{
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) s[i][j] = 0.0f;
#pragma unroll 2
    for (int c = 0; c < D; c += 4)
    {
        float4 x[4], y[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) x[i] = *reinterpret_cast<const float4*>(a + (ty + 16 * i) * Layout<D>::kStride + c);
#pragma unroll
        for (int j = 0; j < 4; ++j) y[j] = *reinterpret_cast<const float4*>(b + (tx + 16 * j) * Layout<D>::kStride + c);
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j)
                s[i][j] = fmaf(x[i].w, y[j].w, fmaf(x[i].z, y[j].z, fmaf(x[i].y, y[j].y, fmaf(x[i].x, y[j].x, s[i][j]))));
    }
}

// acc[i][c] += sum_k w[ty + 16i][k] * m[k][tx + 16c]: a 64 x 64 weight tile (kScoreStride) times a staged 64 x D tile.
template <int D>
__device__ __forceinline__ void tile_accumulate(const float* w, const float* m, float (&acc)[4][Layout<D>::kCols])
{
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll 2
    for (int k = 0; k < kTile; k += 4)
    {
        float4 x[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) x[i] = *reinterpret_cast<const float4*>(w + (ty + 16 * i) * kScoreStride + k);
#pragma unroll
        for (int c = 0; c < Layout<D>::kCols; ++c)
        {
            const float* column = m + k * Layout<D>::kStride + tx + 16 * c;
            const float y0 = column[0], y1 = column[Layout<D>::kStride], y2 = column[2 * Layout<D>::kStride], y3 = column[3 * Layout<D>::kStride];
#pragma unroll
            for (int i = 0; i < 4; ++i) acc[i][c] = fmaf(x[i].w, y3, fmaf(x[i].z, y2, fmaf(x[i].y, y1, fmaf(x[i].x, y0, acc[i][c]))));
        }
    }
}

// Sum and maximum over the 16 lanes of a half-warp (the threads sharing ty).
__device__ __forceinline__ float row_sum(float v)
{
#pragma unroll
    for (int offset = 8; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float row_max(float v)
{
#pragma unroll
    for (int offset = 8; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Writes a thread's 4 x (D / 16) accumulator into rows [first, first + kTile) of one head (rows past seq dropped).
template <int D>
__device__ __forceinline__ void store_rows(float* __restrict__ dst, int64_t row_stride, int first, int seq, const float (&acc)[4][Layout<D>::kCols], const float (&factor)[4])
{
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        const int t = first + ty + 16 * i;
        if (t >= seq) continue;
#pragma unroll
        for (int c = 0; c < Layout<D>::kCols; ++c) dst[(int64_t)t * row_stride + tx + 16 * c] = acc[i][c] * factor[i];
    }
}

// One block per (query tile, head, batch): the query tile stays in shared memory while the key/value tiles it may see
// stream through, with the online softmax's running maximum and sum per row.
template <int D>
__device__ void forward(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, Mask mask,
    int heads, int kv_heads, float scale, float* __restrict__ out, float* __restrict__ lse)
{
    extern __shared__ __align__(16) float shared[];
    float* sq = shared;
    float* sk = sq + Layout<D>::kRows;
    float* sv = sk + Layout<D>::kRows;
    float* sp = sv + Layout<D>::kRows;
    int* seg_q = reinterpret_cast<int*>(sp + kTile * kScoreStride);
    int* seg_k = seg_q + kTile;

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile; // the longest (last) causal tiles start first
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const float* qh = q + (int64_t)b * seq * q_stride + (int64_t)h * D;
    const float* kh = k + (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const float* vh = v + (int64_t)b * seq * kv_stride + (int64_t)kvh * D;

    load_tile<D>(sq, qh, q_stride, q0, seq);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);

    float row_maximum[4], row_total[4], acc[4][Layout<D>::kCols];
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        row_maximum[i] = -INFINITY;
        row_total[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < Layout<D>::kCols; ++c) acc[i][c] = 0.0f;
    }

    int first, last;
    mask.key_tiles(q0, first, last);
    for (int tile = first; tile < last; ++tile)
    {
        const int k0 = tile * kTile;
        __syncthreads(); // the previous tile's readers are done
        load_tile<D>(sk, kh, kv_stride, k0, seq);
        load_tile<D>(sv, vh, kv_stride, k0, seq);
        if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
        __syncthreads();

        float s[4][4];
        tile_dot<D>(sq, sk, s);
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            const int r = ty + 16 * i;
            float m = -INFINITY;
#pragma unroll
            for (int j = 0; j < 4; ++j)
            {
                const int c = tx + 16 * j;
                s[i][j] = mask.visible(q0 + r, k0 + c, seg_q[r], seg_k[c]) ? s[i][j] * scale : -INFINITY;
                m = fmaxf(m, s[i][j]);
            }
            const float updated = fmaxf(row_maximum[i], row_max(m));
            // A row with nothing visible yet keeps exp(-inf - 0) = 0 everywhere instead of exp(-inf + inf) = NaN.
            const float reference = updated == -INFINITY ? 0.0f : updated;
            const float rescale = expf(row_maximum[i] - reference);
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < 4; ++j)
            {
                const float p = expf(s[i][j] - reference);
                sp[r * kScoreStride + tx + 16 * j] = p;
                sum += p;
            }
            row_total[i] = row_total[i] * rescale + row_sum(sum);
            row_maximum[i] = updated;
#pragma unroll
            for (int c = 0; c < Layout<D>::kCols; ++c) acc[i][c] *= rescale;
        }
        __syncthreads();
        tile_accumulate<D>(sp, sv, acc);
    }

    float inverse[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        inverse[i] = row_total[i] > 0.0f ? 1.0f / row_total[i] : 0.0f;
        const int t = q0 + ty + 16 * i;
        if (tx == 0 && t < seq)
            lse[((int64_t)b * heads + h) * seq + t] = row_total[i] > 0.0f ? row_maximum[i] + logf(row_total[i]) : -INFINITY;
    }
    store_rows<D>(out + (int64_t)b * seq * q_stride + (int64_t)h * D, q_stride, q0, seq, acc, inverse);
}

// One block per (key tile, kv head, batch): dK and dV of the tile, summed over the group's query heads and the query
// tiles that can see it, in a fixed order.
template <int D>
__device__ void backward_kv(const float* __restrict__ d_out, const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ lse, const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale,
    float* __restrict__ d_k, float* __restrict__ d_v)
{
    extern __shared__ __align__(16) float shared[];
    float* sk = shared;
    float* sv = sk + Layout<D>::kRows;
    float* sq = sv + Layout<D>::kRows;
    float* sdo = sq + Layout<D>::kRows;
    float* sw = sdo + Layout<D>::kRows; // P, then dS, key-major: [key][query]
    float* s_lse = sw + kTile * kScoreStride;
    float* s_delta = s_lse + kTile;
    int* seg_q = reinterpret_cast<int*>(s_delta + kTile);
    int* seg_k = seg_q + kTile;

    const int seq = mask.seq, b = blockIdx.z, kvh = blockIdx.y, group = heads / kv_heads;
    const int k0 = blockIdx.x * kTile;
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;

    load_tile<D>(sk, k + kv_base, kv_stride, k0, seq);
    load_tile<D>(sv, v + kv_base, kv_stride, k0, seq);
    if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);

    float dk[4][Layout<D>::kCols], dv[4][Layout<D>::kCols];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int c = 0; c < Layout<D>::kCols; ++c) dk[i][c] = dv[i][c] = 0.0f;

    int first, last;
    mask.query_tiles(k0, first, last);
    for (int h = kvh * group; h < (kvh + 1) * group; ++h)
    {
        const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
        const float* lse_h = lse + ((int64_t)b * heads + h) * seq;
        const float* delta_h = delta + ((int64_t)b * heads + h) * seq;
        for (int tile = first; tile < last; ++tile)
        {
            const int q0 = tile * kTile;
            __syncthreads();
            load_tile<D>(sq, q + q_base, q_stride, q0, seq);
            load_tile<D>(sdo, d_out + q_base, q_stride, q0, seq);
            if (threadIdx.x < kTile)
            {
                const int t = q0 + threadIdx.x;
                s_lse[threadIdx.x] = t < seq ? lse_h[t] : 0.0f;
                s_delta[threadIdx.x] = t < seq ? delta_h[t] : 0.0f;
                seg_q[threadIdx.x] = mask.segment(b, t);
            }
            __syncthreads();

            // Key-major: element (i, j) is key row ty + 16i, query row tx + 16j.
            float s[4][4], dp[4][4];
            tile_dot<D>(sk, sq, s);
            tile_dot<D>(sv, sdo, dp);
            float ds[4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j)
                {
                    const int kr = ty + 16 * i, qr = tx + 16 * j;
                    const float p = mask.visible(q0 + qr, k0 + kr, seg_q[qr], seg_k[kr]) ? expf(s[i][j] * scale - s_lse[qr]) : 0.0f;
                    ds[i][j] = p * (dp[i][j] - s_delta[qr]) * scale;
                    sw[kr * kScoreStride + qr] = p;
                }
            __syncthreads();
            tile_accumulate<D>(sw, sdo, dv);
            __syncthreads();
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) sw[(ty + 16 * i) * kScoreStride + tx + 16 * j] = ds[i][j];
            __syncthreads();
            tile_accumulate<D>(sw, sq, dk);
        }
    }
    const float one[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    store_rows<D>(d_k + kv_base, kv_stride, k0, seq, dk, one);
    store_rows<D>(d_v + kv_base, kv_stride, k0, seq, dv, one);
}

// One block per (query tile, head, batch): dQ of the tile over the key tiles it sees.
template <int D>
__device__ void backward_q(const float* __restrict__ d_out, const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ lse, const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale, float* __restrict__ d_q)
{
    extern __shared__ __align__(16) float shared[];
    float* sq = shared;
    float* sdo = sq + Layout<D>::kRows;
    float* sk = sdo + Layout<D>::kRows;
    float* sv = sk + Layout<D>::kRows;
    float* sw = sv + Layout<D>::kRows; // dS, query-major
    int* seg_q = reinterpret_cast<int*>(sw + kTile * kScoreStride);
    int* seg_k = seg_q + kTile;

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile;
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;

    load_tile<D>(sq, q + q_base, q_stride, q0, seq);
    load_tile<D>(sdo, d_out + q_base, q_stride, q0, seq);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);
    float row_lse[4], row_delta[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        const int t = q0 + ty + 16 * i;
        row_lse[i] = t < seq ? lse[((int64_t)b * heads + h) * seq + t] : 0.0f;
        row_delta[i] = t < seq ? delta[((int64_t)b * heads + h) * seq + t] : 0.0f;
    }

    float dq[4][Layout<D>::kCols];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int c = 0; c < Layout<D>::kCols; ++c) dq[i][c] = 0.0f;

    int first, last;
    mask.key_tiles(q0, first, last);
    for (int tile = first; tile < last; ++tile)
    {
        const int k0 = tile * kTile;
        __syncthreads();
        load_tile<D>(sk, k + kv_base, kv_stride, k0, seq);
        load_tile<D>(sv, v + kv_base, kv_stride, k0, seq);
        if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
        __syncthreads();

        float s[4][4], dp[4][4];
        tile_dot<D>(sq, sk, s);
        tile_dot<D>(sdo, sv, dp);
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j)
            {
                const int qr = ty + 16 * i, kr = tx + 16 * j;
                const float p = mask.visible(q0 + qr, k0 + kr, seg_q[qr], seg_k[kr]) ? expf(s[i][j] * scale - row_lse[i]) : 0.0f;
                sw[qr * kScoreStride + kr] = p * (dp[i][j] - row_delta[i]) * scale;
            }
        __syncthreads();
        tile_accumulate<D>(sw, sk, dq);
    }
    const float one[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    store_rows<D>(d_q + q_base, q_stride, q0, seq, dq, one);
}
}

// D = rowsum(dO * O) per (batch, head, position), written [batch, heads, seq]; one warp per row of q's layout.
TRITTER_KERNEL void attention_backward_delta(const float* __restrict__ d_out, const float* __restrict__ out, int rows, int seq, int heads,
    int head_dim, float* __restrict__ delta)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* a = d_out + (int64_t)row * head_dim;
    const float* o = out + (int64_t)row * head_dim;
    float sum = 0.0f;
    for (int c = lane; c < head_dim; c += 32) sum = fmaf(a[c], o[c], sum);
    sum = warp_sum(sum);
    const int h = row % heads, t = (row / heads) % seq, b = row / heads / seq;
    if (lane == 0) delta[((int64_t)b * heads + h) * seq + t] = sum;
}

// A minimum of one block per SM lets ptxas use the registers the tiles need: without it, it held some variants to 64
// or 128 registers and spilled.
#define TRITTER_ATTENTION(D)                                                                                                       \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_forward_d##D(const float* __restrict__ q, const float* __restrict__ k, \
        const float* __restrict__ v, const int* __restrict__ segments, int mode, int window, int prefix, int seq, int heads,          \
        int kv_heads, float scale, float* __restrict__ out, float* __restrict__ lse)                                                 \
    {                                                                                                                                 \
        forward<D>(q, k, v, Mask{mode, window, prefix, seq, segments}, heads, kv_heads, scale, out, lse);                           \
    }                                                                                                                                 \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_backward_kv_d##D(const float* __restrict__ d_out,                      \
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ lse,        \
        const float* __restrict__ delta, const int* __restrict__ segments, int mode, int window, int prefix, int seq, int heads,     \
        int kv_heads, float scale, float* __restrict__ d_k, float* __restrict__ d_v)                                                 \
    {                                                                                                                                 \
        backward_kv<D>(d_out, q, k, v, lse, delta, Mask{mode, window, prefix, seq, segments}, heads, kv_heads, scale, d_k, d_v);    \
    }                                                                                                                                 \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_backward_q_d##D(const float* __restrict__ d_out,                       \
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ lse,        \
        const float* __restrict__ delta, const int* __restrict__ segments, int mode, int window, int prefix, int seq, int heads,     \
        int kv_heads, float scale, float* __restrict__ d_q)                                                                          \
    {                                                                                                                                 \
        backward_q<D>(d_out, q, k, v, lse, delta, Mask{mode, window, prefix, seq, segments}, heads, kv_heads, scale, d_q);          \
    }

TRITTER_ATTENTION(16)
TRITTER_ATTENTION(32)
TRITTER_ATTENTION(64)
TRITTER_ATTENTION(128)
