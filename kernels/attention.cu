// Training attention, flash-attention style: grouped-query heads, the five masks of AttentionMask, forward and backward,
// with no seq x seq matrix in device memory. CPU twin: managed/Tritter.Cpu/Ops/Attention.cs.
//
// q [batch, seq, heads, D], k and v [batch, seq, kv_heads, D]; query head h reads kv head h / (heads / kv_heads).
// Scores are q.k * scale. The forward pass keeps, per query row, the log-sum-exp of its visible scores (lse, float32
// [batch, heads, seq]); the backward pass recomputes P = exp(score - lse) tile by tile.
//
// Products run on TF32 tensor cores (mma.sync m16n8k8, fp32 accumulation; tf32.cuh), FlashAttention-2 style: tiles are
// 64 query rows by 64 key rows, staged in shared memory by cp.async, and a block's 4 warps each own 16 rows of its
// tile. A warp's 16 x 64 scores come out of the mma in the accumulator layout, and the product that consumes them
// (P V, P^T dO, dS^T Q, dS K) takes them as its A operand straight from registers (warp_accumulate), so scores never
// touch shared memory; the softmax statistics, the masks and dS = P (dP - D) stay float32. Rows are padded to D + 4
// floats, which makes every fragment load conflict-free. The backward kernels double-buffer their streamed tiles where
// the device has the shared memory (KernelLaunch.AttentionQueryTiles/AttentionKeyTiles); the forward does not: its
// three tiles let two blocks share an SM, which hides the loads as well.
//
// Floor: compute. A causal forward must do 2 T^2 d flops per head (half of QK^T and PV), a causal backward 5 T^2 d
// (QK^T, dO V^T, P^T dO, dS^T Q, dS K); this backward does 7, recomputing QK^T and dO V^T in both of its passes to stay
// free of atomics. The roofline is mma.sync's TF32 rate, 318 TFLOP/s measured on an H100 (kernels/peak.cu; wgmma's
// ~495 is out of reach of the instruction these kernels share with SM_80..SM_120).
//
// Measured on an H100 (bench/results/nvidia-h100-80gb-hbm3/2026-11-23-attention-tf32.md; 7B shape, 32/8 heads, d 128,
// causal, 2K / 4K tokens): forward 56 / 67 TFLOP/s (18 / 21% of the peak), backward 31 / 39 counting 5 T^2 d (43 / 55
// of the 7 it issues). The float32 CUDA-core kernels before them reached 15-17 and 12-15 over 2K-4K (forward 15.3 at
// 2K: 3.7x now); PyTorch's float32 SDPA in the same call: 38 / 43 and 30 / 34.
//
// What remains: the backward is short of 3x (2.0-3.3x against the old range). At D = 128 its double-buffered layout takes 200 KB, so an SM holds one
// block of 4 warps, and the element-wise phases (P, dS) of a warp leave the tensor cores idle; 8 warps per block (two
// per 16 rows, splitting D, or 128-row key tiles), q or k fragments held in registers across a tile, and dropping the
// two recomputed products (which needs atomics or a dS buffer) are the next steps; wgmma only with an sm_90 build.
//
// The backward pass is deterministic and atomic-free: attention_backward_delta computes D = rowsum(dO * O);
// attention_backward_kv runs one block per (key tile, kv head, batch) and accumulates dK and dV over every query head
// of the group and every query tile that can see the key tile, in a fixed order; attention_backward_q runs one block
// per (query tile, head, batch) over the key tiles. Tiles that the mask hides entirely (above the causal diagonal,
// outside the sliding window) are skipped by the loop bounds, and tiles it shows entirely skip the per-element test.
#include "reduce.cuh"
#include "tf32.cuh"

namespace {
constexpr int kTile = 64;                // query and key rows per tile (KernelLaunch.AttentionTile)
constexpr int kWarps = 4;                // each owns 16 rows of the block's tile
constexpr int kThreads = 32 * kWarps;    // KernelLaunch.AttentionThreads
constexpr float kLog2e = 1.4426950408889634f;

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

    // Whether every pair of query rows [q0, q0 + kTile) and key rows [k0, k0 + kTile) is visible, so that the tile can
    // skip the per-element test (never in document mode, whose segments only the elements know).
    __device__ __forceinline__ bool whole(int q0, int k0) const
    {
        const int q1 = q0 + kTile - 1, k1 = k0 + kTile - 1;
        if (q1 >= seq || k1 >= seq) return false;
        const bool below = k1 <= q0;
        switch (mode)
        {
        case kBidirectional: return true;
        case kPrefixLm: return below || k1 < prefix;
        case kSlidingWindow: return below && q1 - k0 < window;
        case kDocument: return false;
        default: return below;
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
    static constexpr int kStride = D + 4;         // floats per staged row
    static constexpr int kRows = kTile * kStride; // floats of one staged tile
    static constexpr int kSteps = D / 8;          // mma k steps over D, and 8-column accumulator tiles of a 16 x D block
};

// Scores of a warp: s[j][2h + e] is row g + 8h of the warp's 16, column 8j + 2t + e of the tile's 64 (tf32.cuh's C).
using Scores = float[kTile / 8][4];

// Starts copying rows [first, first + kTile) of one head into dst (zeros past the sequence); src points at
// (b, 0, head, 0) and consecutive positions are row_stride floats apart. The caller commits and waits. Each thread
// copies a fixed count of chunks, so the loop unrolls without the branches a threadIdx-bounded loop compiles to.
template <int D>
__device__ __forceinline__ void load_tile(float* dst, const float* __restrict__ src, int64_t row_stride, int first, int seq, bool vector)
{
    if (vector)
    {
        static_assert(kTile * D / 4 % kThreads == 0, "whole chunks a thread");
#pragma unroll
        for (int n = 0; n < kTile * D / 4 / kThreads; n++)
        {
            const int i = threadIdx.x + n * kThreads;
            const int r = i / (D / 4), c = i % (D / 4) * 4;
            const bool valid = first + r < seq;
            copy16(dst + r * Layout<D>::kStride + c, valid ? src + (int64_t)(first + r) * row_stride + c : src, valid);
        }
        return;
    }
#pragma unroll 4
    for (int n = 0; n < kTile * D / kThreads; n++)
    {
        const int i = threadIdx.x + n * kThreads;
        const int r = i / D, c = i % D;
        const bool valid = first + r < seq;
        copy4(dst + r * Layout<D>::kStride + c, valid ? src + (int64_t)(first + r) * row_stride + c : src, valid);
    }
}

// s = a b^T over D columns: a the warp's 16 staged rows, b a staged tile of 64. Rows are kStride = D + 4 floats apart,
// 4 mod 32 (20 for D = 16), so lane (g, t) reading row g, column t hits bank 4g + t (20g + t): 32 distinct banks.
template <int D>
__device__ __forceinline__ void warp_scores(const float* a, const float* b, Scores& s)
{
    constexpr int S = Layout<D>::kStride;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[j][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D; kk += 8)
    {
        const uint32_t fa[4] = {to_tf32(a[g * S + kk + t]), to_tf32(a[(g + 8) * S + kk + t]), to_tf32(a[g * S + kk + t + 4]),
            to_tf32(a[(g + 8) * S + kk + t + 4])};
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
        {
            const float* row = b + (8 * j + g) * S + kk;
            const uint32_t fb[2] = {to_tf32(row[t]), to_tf32(row[t + 4])};
            mma_tf32(s[j], fa, fb);
        }
    }
}

// acc += w m: w a warp's 16 x 64 weights in the Scores layout, m a staged 64 x D tile; acc[n][2h + e] is row g + 8h,
// column 8n + 2t + e. The k order is free, so fragment slot t takes key 2t and slot t + 4 key 2t + 1 of each 8: exactly
// the two columns a lane already holds of w, which then never leaves registers. m's reads (row 2t, column g) hit bank
// 8t + g (2t kStride is 8t mod 32 for every D).
template <int D>
__device__ __forceinline__ void warp_accumulate(const Scores& w, const float* m, float (&acc)[Layout<D>::kSteps][4])
{
    constexpr int S = Layout<D>::kStride;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int j = 0; j < kTile / 8; ++j)
    {
        const uint32_t fa[4] = {to_tf32(w[j][0]), to_tf32(w[j][2]), to_tf32(w[j][1]), to_tf32(w[j][3])};
        const float* rows = m + (8 * j + 2 * t) * S + g;
#pragma unroll
        for (int n = 0; n < Layout<D>::kSteps; ++n)
        {
            const uint32_t fb[2] = {to_tf32(rows[8 * n]), to_tf32(rows[S + 8 * n])};
            mma_tf32(acc[n], fa, fb);
        }
    }
}

// Sum and maximum over the 4 lanes holding one row of a fragment.
__device__ __forceinline__ float quad_sum(float v)
{
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

__device__ __forceinline__ float quad_max(float v)
{
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

template <int D>
__device__ __forceinline__ void zero(float (&acc)[Layout<D>::kSteps][4])
{
#pragma unroll
    for (int n = 0; n < Layout<D>::kSteps; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
}

// Writes a warp's 16 x D accumulator, row h of the lane's two scaled by factor[h], into rows [first, first + kTile) of
// one head (rows past seq dropped).
template <int D>
__device__ __forceinline__ void store_rows(float* __restrict__ dst, int64_t row_stride, int first, int seq, const float (&acc)[Layout<D>::kSteps][4],
    const float (&factor)[2])
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; ++h)
    {
        const int row = first + 16 * warp + g + 8 * h;
        if (row >= seq) continue;
#pragma unroll
        for (int n = 0; n < Layout<D>::kSteps; ++n)
        {
            float* at = dst + (int64_t)row * row_stride + 8 * n + 2 * t;
            at[0] = acc[n][2 * h] * factor[h];
            at[1] = acc[n][2 * h + 1] * factor[h];
        }
    }
}

// One block per (query tile, head, batch): the query tile stays in shared memory while the key/value tiles it may see
// stream through; each warp keeps the online softmax's running maximum and sum of its 16 rows, its scores and its
// 16 x D output in registers.
template <int D>
__device__ void forward(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, Mask mask,
    int heads, int kv_heads, float scale, float* __restrict__ out, float* __restrict__ lse)
{
    extern __shared__ __align__(16) float shared[];
    float* sq = shared;
    float* sk = sq + Layout<D>::kRows;
    float* sv = sk + Layout<D>::kRows;
    int* seg_q = reinterpret_cast<int*>(sv + Layout<D>::kRows);
    int* seg_k = seg_q + kTile;

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile; // the longest (last) causal tiles start first
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const float* qh = q + (int64_t)b * seq * q_stride + (int64_t)h * D;
    const float* kh = k + (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const float* vh = v + (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const bool vector = aligned16(q) && aligned16(k) && aligned16(v);

    load_tile<D>(sq, qh, q_stride, q0, seq, vector);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);

    float row_maximum[2] = {-INFINITY, -INFINITY}, row_total[2] = {0.0f, 0.0f}, acc[Layout<D>::kSteps][4];
    zero<D>(acc);

    int first, last;
    mask.key_tiles(q0, first, last);
    for (int tile = first; tile < last; ++tile)
    {
        const int k0 = tile * kTile;
        __syncthreads(); // the previous tile's readers are done
        load_tile<D>(sk, kh, kv_stride, k0, seq, vector);
        load_tile<D>(sv, vh, kv_stride, k0, seq, vector);
        commit_copies();
        if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
        wait_copies<0>();
        __syncthreads();

        Scores s;
        warp_scores<D>(sq + 16 * warp * Layout<D>::kStride, sk, s);
        const bool whole = mask.whole(q0, k0);
#pragma unroll
        for (int hr = 0; hr < 2; ++hr)
        {
            const int r = 16 * warp + g + 8 * hr;
            float m = -INFINITY;
#pragma unroll
            for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                {
                    const int c = 8 * j + 2 * t + e;
                    float& x = s[j][2 * hr + e];
                    x = whole || mask.visible(q0 + r, k0 + c, seg_q[r], seg_k[c]) ? x * scale : -INFINITY;
                    m = fmaxf(m, x);
                }
            const float updated = fmaxf(row_maximum[hr], quad_max(m));
            // A row with nothing visible yet keeps exp(-inf - 0) = 0 everywhere instead of exp(-inf + inf) = NaN.
            const float reference = updated == -INFINITY ? 0.0f : updated;
            const float rescale = exp2f((row_maximum[hr] - reference) * kLog2e);
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                {
                    float& x = s[j][2 * hr + e];
                    x = exp2f((x - reference) * kLog2e);
                    sum += x;
                }
            row_total[hr] = row_total[hr] * rescale + quad_sum(sum);
            row_maximum[hr] = updated;
#pragma unroll
            for (int n = 0; n < Layout<D>::kSteps; ++n)
            {
                acc[n][2 * hr] *= rescale;
                acc[n][2 * hr + 1] *= rescale;
            }
        }
        warp_accumulate<D>(s, sv, acc);
    }

    float inverse[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr)
    {
        inverse[hr] = row_total[hr] > 0.0f ? 1.0f / row_total[hr] : 0.0f;
        const int row = q0 + 16 * warp + g + 8 * hr;
        if (t == 0 && row < seq)
            lse[((int64_t)b * heads + h) * seq + row] = row_total[hr] > 0.0f ? row_maximum[hr] + logf(row_total[hr]) : -INFINITY;
    }
    store_rows<D>(out + (int64_t)b * seq * q_stride + (int64_t)h * D, q_stride, q0, seq, acc, inverse);
}

// The streamed tiles of the backward kernels are double-buffered (the next tile's copies in flight while the warps
// compute on the current one) when the launch gave shared memory for two stages (KernelLaunch.AttentionBackwardStages:
// six tiles, which every head dim fits on an H100 but not D = 128 on an A100), single-buffered otherwise. The entry
// points pick the variant from the launch's dynamic shared memory: one uniform branch, and each variant keeps its own
// register allocation (a run-time stage count in one loop made ptxas spill at D = 128).
__device__ __forceinline__ int dynamic_shared_bytes()
{
    uint32_t bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(bytes));
    return (int)bytes;
}

// Floats of one stage of streamed tiles, and of the whole layout with two stages.
template <int D>
struct BackwardKvStage
{
    static constexpr int kFloats = 2 * Layout<D>::kRows + 3 * kTile;
    static constexpr int kTwoStageBytes = (int)sizeof(float) * (2 * Layout<D>::kRows + 2 * kFloats + kTile);
};

template <int D>
struct BackwardQStage
{
    static constexpr int kFloats = 2 * Layout<D>::kRows + kTile;
    static constexpr int kTwoStageBytes = (int)sizeof(float) * (2 * Layout<D>::kRows + 2 * kFloats + kTile);
};

// One block per (key tile, kv head, batch): dK and dV of the tile, summed over the group's query heads and the query
// tiles that can see it, in a fixed order. Each warp owns 16 key rows: it computes P^T and dP^T for them against the
// staged query tile, and dV += P^T dO, dK += dS^T Q stay in its registers.
template <int D, int Stages>
__device__ void backward_kv(const float* __restrict__ d_out, const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ lse, const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale,
    float* __restrict__ d_k, float* __restrict__ d_v)
{
    // k, v; then per stage q, dO; then per stage the query rows' lse, delta and segments; then the key rows' segments.
    constexpr int kStageFloats = BackwardKvStage<D>::kFloats;
    extern __shared__ __align__(16) float shared[];
    float* sk = shared;
    float* sv = sk + Layout<D>::kRows;
    float* staged = sv + Layout<D>::kRows;
    int* seg_k = reinterpret_cast<int*>(staged + Stages * kStageFloats);

    const int seq = mask.seq, b = blockIdx.z, kvh = blockIdx.y, group = heads / kv_heads;
    const int k0 = blockIdx.x * kTile;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const bool vector = aligned16(d_out) && aligned16(q) && aligned16(k) && aligned16(v);

    int first, last;
    mask.query_tiles(k0, first, last);
    const int tiles = last - first, steps = group * tiles;

    // Step n is query head kvh * group + n / tiles, query tile first + n % tiles.
    auto stage_queries = [&](int n, float* at) {
        const int h = kvh * group + n / tiles, q0 = (first + n % tiles) * kTile;
        const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
        load_tile<D>(at, q + q_base, q_stride, q0, seq, vector);
        load_tile<D>(at + Layout<D>::kRows, d_out + q_base, q_stride, q0, seq, vector);
        if (threadIdx.x < kTile)
        {
            const int row = q0 + threadIdx.x;
            const int64_t at_row = ((int64_t)b * heads + h) * seq + row;
            float* rows = at + 2 * Layout<D>::kRows;
            rows[threadIdx.x] = row < seq ? lse[at_row] : 0.0f;
            rows[kTile + threadIdx.x] = row < seq ? delta[at_row] : 0.0f;
            reinterpret_cast<int*>(rows)[2 * kTile + threadIdx.x] = mask.segment(b, row);
        }
    };

    load_tile<D>(sk, k + kv_base, kv_stride, k0, seq, vector);
    load_tile<D>(sv, v + kv_base, kv_stride, k0, seq, vector);
    if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
    if (steps > 0) stage_queries(0, staged);
    commit_copies();

    float dk[Layout<D>::kSteps][4], dv[Layout<D>::kSteps][4];
    zero<D>(dk);
    zero<D>(dv);

#pragma unroll 1
    for (int n = 0; n < steps; ++n)
    {
        // Step n's copies have landed and every warp is done with step n - 1, whose stage the prefetch refills.
        wait_copies<0>();
        __syncthreads();
        const float* at = staged + (Stages == 2 ? n & 1 : 0) * kStageFloats;
        if (Stages == 2 && n + 1 < steps) stage_queries(n + 1, staged + ((n + 1) & 1) * kStageFloats);
        commit_copies();
        const float* sq = at;
        const float* sdo = at + Layout<D>::kRows;
        const float* s_lse = at + 2 * Layout<D>::kRows;
        const float* s_delta = s_lse + kTile;
        const int* seg_q = reinterpret_cast<const int*>(s_delta + kTile);
        const int q0 = (first + n % tiles) * kTile;

        // Key-major: element (r, c) is key row r of the warp's 16, query row c of the tile.
        Scores p, ds;
        warp_scores<D>(sk + 16 * warp * Layout<D>::kStride, sq, p);
        const bool whole = mask.whole(q0, k0);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e)
            {
                const int r = 16 * warp + g + 8 * (e >> 1), c = 8 * j + 2 * t + (e & 1);
                p[j][e] = whole || mask.visible(q0 + c, k0 + r, seg_q[c], seg_k[r]) ? exp2f((p[j][e] * scale - s_lse[c]) * kLog2e) : 0.0f;
            }
        warp_accumulate<D>(p, sdo, dv);
        warp_scores<D>(sv + 16 * warp * Layout<D>::kStride, sdo, ds);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) ds[j][e] = p[j][e] * (ds[j][e] - s_delta[8 * j + 2 * t + (e & 1)]) * scale;
        warp_accumulate<D>(ds, sq, dk);

        if (Stages == 1 && n + 1 < steps)
        {
            __syncthreads();
            stage_queries(n + 1, staged);
            commit_copies();
        }
    }
    wait_copies<0>(); // no copy outlives the block where no query tile sees this one
    const float one[2] = {1.0f, 1.0f};
    store_rows<D>(d_k + kv_base, kv_stride, k0, seq, dk, one);
    store_rows<D>(d_v + kv_base, kv_stride, k0, seq, dv, one);
}

// One block per (query tile, head, batch): dQ of the tile over the key tiles it sees; each warp owns 16 query rows and
// keeps their P, dS and dQ in registers.
template <int D, int Stages>
__device__ void backward_q(const float* __restrict__ d_out, const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ lse, const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale, float* __restrict__ d_q)
{
    // q, dO; then per stage k, v and the key rows' segments; then the query rows' segments.
    constexpr int kStageFloats = BackwardQStage<D>::kFloats;
    extern __shared__ __align__(16) float shared[];
    float* sq = shared;
    float* sdo = sq + Layout<D>::kRows;
    float* staged = sdo + Layout<D>::kRows;
    int* seg_q = reinterpret_cast<int*>(staged + Stages * kStageFloats);

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const bool vector = aligned16(d_out) && aligned16(q) && aligned16(k) && aligned16(v);

    auto stage_keys = [&](int tile, float* at) {
        const int k0 = tile * kTile;
        load_tile<D>(at, k + kv_base, kv_stride, k0, seq, vector);
        load_tile<D>(at + Layout<D>::kRows, v + kv_base, kv_stride, k0, seq, vector);
        if (threadIdx.x < kTile) reinterpret_cast<int*>(at + 2 * Layout<D>::kRows)[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
    };

    int first, last;
    mask.key_tiles(q0, first, last);
    load_tile<D>(sq, q + q_base, q_stride, q0, seq, vector);
    load_tile<D>(sdo, d_out + q_base, q_stride, q0, seq, vector);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);
    if (first < last) stage_keys(first, staged);
    commit_copies();
    float row_lse[2], row_delta[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr)
    {
        const int row = q0 + 16 * warp + g + 8 * hr;
        row_lse[hr] = row < seq ? lse[((int64_t)b * heads + h) * seq + row] : 0.0f;
        row_delta[hr] = row < seq ? delta[((int64_t)b * heads + h) * seq + row] : 0.0f;
    }

    float dq[Layout<D>::kSteps][4];
    zero<D>(dq);

#pragma unroll 1
    for (int tile = first; tile < last; ++tile)
    {
        // As in backward_kv: this tile has landed, the previous one's stage is free for the prefetch.
        wait_copies<0>();
        __syncthreads();
        const float* at = staged + (Stages == 2 ? (tile - first) & 1 : 0) * kStageFloats;
        if (Stages == 2 && tile + 1 < last) stage_keys(tile + 1, staged + ((tile + 1 - first) & 1) * kStageFloats);
        commit_copies();
        const float* sk = at;
        const float* sv = at + Layout<D>::kRows;
        const int* seg_k = reinterpret_cast<const int*>(at + 2 * Layout<D>::kRows);
        const int k0 = tile * kTile;

        Scores s, ds;
        warp_scores<D>(sq + 16 * warp * Layout<D>::kStride, sk, s);
        warp_scores<D>(sdo + 16 * warp * Layout<D>::kStride, sv, ds);
        const bool whole = mask.whole(q0, k0);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e)
            {
                const int hr = e >> 1, r = 16 * warp + g + 8 * hr, c = 8 * j + 2 * t + (e & 1);
                const float p = whole || mask.visible(q0 + r, k0 + c, seg_q[r], seg_k[c]) ? exp2f((s[j][e] * scale - row_lse[hr]) * kLog2e) : 0.0f;
                ds[j][e] = p * (ds[j][e] - row_delta[hr]) * scale;
            }
        warp_accumulate<D>(ds, sk, dq);

        if (Stages == 1 && tile + 1 < last)
        {
            __syncthreads();
            stage_keys(tile + 1, staged);
            commit_copies();
        }
    }
    wait_copies<0>();
    const float one[2] = {1.0f, 1.0f};
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

// A minimum of one block per SM lets ptxas use up to 255 registers a thread, which the backward's two 16 x D
// accumulators and two 16 x 64 score fragments per warp need at D = 128 (246-255, no spills, on sm_90).
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
        const Mask mask{mode, window, prefix, seq, segments};                                                                        \
        if (dynamic_shared_bytes() >= BackwardKvStage<D>::kTwoStageBytes)                                                           \
            backward_kv<D, 2>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_k, d_v);                                  \
        else                                                                                                                          \
            backward_kv<D, 1>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_k, d_v);                                  \
    }                                                                                                                                 \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_backward_q_d##D(const float* __restrict__ d_out,                       \
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ lse,        \
        const float* __restrict__ delta, const int* __restrict__ segments, int mode, int window, int prefix, int seq, int heads,     \
        int kv_heads, float scale, float* __restrict__ d_q)                                                                          \
    {                                                                                                                                 \
        const Mask mask{mode, window, prefix, seq, segments};                                                                        \
        if (dynamic_shared_bytes() >= BackwardQStage<D>::kTwoStageBytes)                                                            \
            backward_q<D, 2>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_q);                                        \
        else                                                                                                                          \
            backward_q<D, 1>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_q);                                        \
    }

TRITTER_ATTENTION(16)
TRITTER_ATTENTION(32)
TRITTER_ATTENTION(64)
TRITTER_ATTENTION(128)
