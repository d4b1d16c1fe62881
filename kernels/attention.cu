// Training attention, flash-attention style: grouped-query heads, the five masks of AttentionMask, forward and backward,
// with no seq x seq matrix in device memory. CPU twin: managed/Tritter.Cpu/Ops/Attention.cs.
//
// q [batch, seq, heads, D], k and v [batch, seq, kv_heads, D]; query head h reads kv head h / (heads / kv_heads).
// Scores are q.k * scale. The forward pass keeps, per query row, the log-sum-exp of its visible scores (lse, float32
// [batch, heads, seq]); the backward pass recomputes P = exp(score - lse) tile by tile.
//
// Products run on tensor cores at one of two precisions (MatmulPrecision), FlashAttention-2 style: TF32 (mma.sync
// m16n8k8 on the float32 tensors; tf32.cuh) or bf16 (mma.sync m16n8k16 on bf16 copies of q, k, v and dO, fragments by
// ldmatrix; bf16.cuh), both accumulating in float32. One body per kernel, templated over the operands (struct Tf32 and
// Bf16: how a tile is staged, s = a b^T and acc += w m). Tiles are 64 query rows by 64 key rows, staged in shared
// memory by cp.async, and a block's 4 warps each own 16 rows of its tile. A warp's 16 x 64 scores come out of the mma
// in the accumulator layout, and the product that consumes them (P V, P^T dO, dS^T Q, dS K) takes them as its A
// operand straight from registers, so scores never touch shared memory; the softmax statistics, the masks and
// dS = P (dP - D) stay float32. Streamed tiles are double-buffered where the device has the shared memory
// (KernelLaunch.AttentionStages), except in the TF32 forward: its three tiles let two blocks share an SM, which hides
// the loads as well.
//
// Floor: compute. A causal forward must do 2 T^2 d flops per head (half of QK^T and PV), a causal backward 5 T^2 d
// (QK^T, dO V^T, P^T dO, dS^T Q, dS K); this backward does 7, recomputing QK^T and dO V^T in both of its passes to stay
// free of atomics. The rooflines are mma.sync's rates measured on an H100 (kernels/peak.cu): 318 TFLOP/s TF32, ~650
// bf16 (wgmma's ~495 / ~989 are out of reach of the instruction these kernels share with SM_80..SM_120). At 16 rows a
// warp, the bf16 B fragments cap it below that: each ldmatrix.x4 (512 bytes of shared memory, 4 of an SM's cycles)
// feeds two mma (about 3.3 cycles at the peak rate).
//
// TF32, measured on an H100 (bench/results/nvidia-h100-80gb-hbm3/2026-11-23-attention-tf32.md; 7B shape, 32/8 heads,
// d 128, causal, 2K / 4K tokens): forward 56 / 67 TFLOP/s (18 / 21% of the peak), backward 31 / 39 counting 5 T^2 d
// (43 / 55 of the 7 it issues); PyTorch's float32 SDPA in the same call: 38 / 43 and 30 / 34.
//
// The backward pass is deterministic and atomic-free: attention_backward_delta computes D = rowsum(dO * O);
// attention_backward_kv runs one block per (key tile, kv head, batch) and accumulates dK and dV over every query head
// of the group and every query tile that can see the key tile, in a fixed order; attention_backward_q runs one block
// per (query tile, head, batch) over the key tiles. Tiles that the mask hides entirely (above the causal diagonal,
// outside the sliding window) are skipped by the loop bounds, and tiles it shows entirely skip the per-element test.
#include "bf16.cuh"
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

// Scores of a warp: s[j][2h + e] is row g + 8h of the warp's 16, column 8j + 2t + e of the tile's 64 (the C layout of
// both precisions' mma).
using Scores = float[kTile / 8][4];

// A warp's 16 x D accumulator in the same layout: acc[n][2h + e] is row g + 8h, column 8n + 2t + e.
template <int D>
using Rows = float[D / 8][4];

// The TF32 operands: tiles of float32 rows padded to D + 4 floats, which makes every fragment load conflict-free, and
// fragments read element by element and rounded to TF32 (tf32.cuh).
template <int D>
struct Tf32
{
    using Element = float;
    static constexpr int kStride = D + 4;         // elements per staged row
    static constexpr int kRows = kTile * kStride; // elements of one staged tile

    // Starts copying rows [first, first + kTile) of one head into dst (zeros past the sequence); src points at
    // (b, 0, head, 0) and consecutive positions are row_stride elements apart. The caller commits and waits. Each
    // thread copies a fixed count of chunks, so the loop unrolls without the branches a threadIdx-bounded loop
    // compiles to.
    static __device__ __forceinline__ void load_tile(float* dst, const float* __restrict__ src, int64_t row_stride, int first, int seq, bool vector)
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
                copy16(dst + r * kStride + c, valid ? src + (int64_t)(first + r) * row_stride + c : src, valid);
            }
            return;
        }
#pragma unroll 4
        for (int n = 0; n < kTile * D / kThreads; n++)
        {
            const int i = threadIdx.x + n * kThreads;
            const int r = i / D, c = i % D;
            const bool valid = first + r < seq;
            copy4(dst + r * kStride + c, valid ? src + (int64_t)(first + r) * row_stride + c : src, valid);
        }
    }

    // s = a b^T over D columns: a the warp's 16 staged rows, b a staged tile of 64. Rows are kStride = D + 4 floats
    // apart, 4 mod 32 (20 for D = 16), so lane (g, t) reading row g, column t hits bank 4g + t (20g + t): 32 banks.
    static __device__ __forceinline__ void scores(const float* a, const float* b, Scores& s)
    {
        constexpr int S = kStride;
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

    // acc += w m: w a warp's 16 x 64 weights in the Scores layout, m a staged 64 x D tile. The k order is free, so
    // fragment slot t takes key 2t and slot t + 4 key 2t + 1 of each 8: exactly the two columns a lane already holds
    // of w, which then never leaves registers. m's reads (row 2t, column g) hit bank 8t + g (2t kStride is 8t mod 32
    // for every D).
    static __device__ __forceinline__ void accumulate(const Scores& w, const float* m, Rows<D>& acc)
    {
        constexpr int S = kStride;
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
        {
            const uint32_t fa[4] = {to_tf32(w[j][0]), to_tf32(w[j][2]), to_tf32(w[j][1]), to_tf32(w[j][3])};
            const float* rows = m + (8 * j + 2 * t) * S + g;
#pragma unroll
            for (int n = 0; n < D / 8; ++n)
            {
                const uint32_t fb[2] = {to_tf32(rows[8 * n]), to_tf32(rows[S + 8 * n])};
                mma_tf32(acc[n], fa, fb);
            }
        }
    }
};

// The bf16 operands: q, k, v and dO arrive as bf16 copies (matmul_to_bf16; rows of D elements, 16-byte aligned), staged
// in rows padded to D + 8 elements: a row is then 16 bytes past a multiple of 128 (D + 8 = 24, 40, 72 or 136 elements),
// so the 8 rows one ldmatrix phase reads fall in 8 different bank groups. Fragments come from ldmatrix (bf16.cuh):
// plain for a tile whose rows are the product's k (a b^T), transposed for one whose rows are its n (w m). Weights
// (P, dS) are rounded to bf16 in registers as they become an A operand, as FlashAttention-2 does.
template <int D>
struct Bf16
{
    using Element = uint16_t;
    static constexpr int kStride = D + 8;
    static constexpr int kRows = kTile * kStride;

    static __device__ __forceinline__ void load_tile(uint16_t* dst, const uint16_t* __restrict__ src, int64_t row_stride, int first, int seq, bool)
    {
        static_assert(kTile * D / 8 % kThreads == 0, "whole chunks a thread");
#pragma unroll
        for (int n = 0; n < kTile * D / 8 / kThreads; n++)
        {
            const int i = threadIdx.x + n * kThreads;
            const int r = i / (D / 8), c = i % (D / 8) * 8;
            const bool valid = first + r < seq;
            copy16(shared_address(dst + r * kStride + c), valid ? src + (int64_t)(first + r) * row_stride + c : src, valid);
        }
    }

    // s = a b^T: lane l addresses row l % 16, columns 8 (l / 16) of a's 16 rows (matrices in a[0..3] order) and row
    // l % 8 + 8 (l / 16), columns 8 ((l / 8) % 2) of b's 16 (the B fragments of two 8-key blocks).
    static __device__ __forceinline__ void scores(const uint16_t* a, const uint16_t* b, Scores& s)
    {
        const int lane = threadIdx.x & 31;
        const uint32_t a_at = shared_address(a + (lane & 15) * kStride + (lane >> 4) * 8);
        const uint32_t b_at = shared_address(b + ((lane & 7) + (lane >> 4) * 8) * kStride + ((lane >> 3) & 1) * 8);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) s[j][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk)
        {
            uint32_t fa[4];
            ldmatrix_x4(fa, a_at + kk * 32, false);
#pragma unroll
            for (int j = 0; j < kTile / 16; ++j)
            {
                uint32_t fb[4];
                ldmatrix_x4(fb, b_at + (j * 16 * kStride + kk * 16) * 2, false);
                mma_bf16(s[2 * j], fa, fb[0], fb[1]);
                mma_bf16(s[2 * j + 1], fa, fb[2], fb[3]);
            }
        }
    }

    // acc += w m: the A fragment of keys [16 j, 16 j + 16) is the lane's own scores of 8-key blocks 2j and 2j + 1;
    // lane l addresses key row l % 8 + 8 ((l / 8) % 2), columns 8 (l / 16) of m, transposed (two 8-column blocks).
    static __device__ __forceinline__ void accumulate(const Scores& w, const uint16_t* m, Rows<D>& acc)
    {
        const int lane = threadIdx.x & 31;
        const uint32_t m_at = shared_address(m + ((lane & 7) + ((lane >> 3) & 1) * 8) * kStride + (lane >> 4) * 8);
#pragma unroll
        for (int j = 0; j < kTile / 16; ++j)
        {
            const uint32_t fa[4] = {pack_bf16(w[2 * j][0], w[2 * j][1]), pack_bf16(w[2 * j][2], w[2 * j][3]),
                pack_bf16(w[2 * j + 1][0], w[2 * j + 1][1]), pack_bf16(w[2 * j + 1][2], w[2 * j + 1][3])};
#pragma unroll
            for (int n = 0; n < D / 16; ++n)
            {
                uint32_t fb[4];
                ldmatrix_x4(fb, m_at + (j * 16 * kStride + n * 16) * 2, true);
                mma_bf16(acc[2 * n], fa, fb[0], fb[1]);
                mma_bf16(acc[2 * n + 1], fa, fb[2], fb[3]);
            }
        }
    }
};

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
__device__ __forceinline__ void zero(Rows<D>& acc)
{
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
}

// Writes a warp's 16 x D accumulator, row h of the lane's two scaled by factor[h], into rows [first, first + kTile) of
// one head (rows past seq dropped).
template <int D>
__device__ __forceinline__ void store_rows(float* __restrict__ dst, int64_t row_stride, int first, int seq, const Rows<D>& acc, const float (&factor)[2])
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; ++h)
    {
        const int row = first + 16 * warp + g + 8 * h;
        if (row >= seq) continue;
#pragma unroll
        for (int n = 0; n < D / 8; ++n)
        {
            float* at = dst + (int64_t)row * row_stride + 8 * n + 2 * t;
            at[0] = acc[n][2 * h] * factor[h];
            at[1] = acc[n][2 * h + 1] * factor[h];
        }
    }
}

// The streamed tiles are double-buffered (the next tile's copies in flight while the warps compute on the current one)
// when the launch gave shared memory for two stages (KernelLaunch.AttentionStages), single-buffered otherwise. The
// entry points pick the variant from the launch's dynamic shared memory: one uniform branch, and each variant keeps its
// own register allocation (a run-time stage count in one loop made ptxas spill at D = 128).
__device__ __forceinline__ int dynamic_shared_bytes()
{
    uint32_t bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(bytes));
    return (int)bytes;
}

// Bytes of one stage of streamed tiles and of the whole layout with two: `Kept` tiles staged once, `Streamed` tiles and
// `Columns` floats a row per stage, and a segment id a row of the kept tiles.
template <class Ops, int Kept, int Streamed, int Columns>
struct Staging
{
    static constexpr int kTileBytes = (int)sizeof(typename Ops::Element) * Ops::kRows;
    static constexpr int kStageBytes = Streamed * kTileBytes + Columns * kTile * 4;
    static constexpr int kTwoStageBytes = Kept * kTileBytes + 2 * kStageBytes + kTile * 4;
};

// The forward and backward_q keep a query-side tile set and stream k, v and the key rows' segment ids.
template <class Ops> using ForwardStaging = Staging<Ops, 1, 2, 1>;
template <class Ops> using BackwardQStaging = Staging<Ops, 2, 2, 1>;
// backward_kv keeps k and v and streams q, dO and the query rows' lse, delta and segment ids.
template <class Ops> using BackwardKvStaging = Staging<Ops, 2, 2, 3>;

// Starts copying key tile `tile`'s k and v rows and their segment ids into stage `at`.
template <class Ops>
__device__ __forceinline__ void stage_keys(typename Ops::Element* at, const typename Ops::Element* __restrict__ k, const typename Ops::Element* __restrict__ v,
    int64_t kv_base, int64_t kv_stride, int tile, int b, const Mask& mask, bool vector)
{
    const int k0 = tile * kTile;
    Ops::load_tile(at, k + kv_base, kv_stride, k0, mask.seq, vector);
    Ops::load_tile(at + Ops::kRows, v + kv_base, kv_stride, k0, mask.seq, vector);
    if (threadIdx.x < kTile) reinterpret_cast<int*>(at + 2 * Ops::kRows)[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
}

// One block per (query tile, head, batch): the query tile stays in shared memory while the key/value tiles it may see
// stream through; each warp keeps the online softmax's running maximum and sum of its 16 rows, its scores and its
// 16 x D output in registers.
template <class Ops, int D, int Stages>
__device__ void forward(const typename Ops::Element* __restrict__ q, const typename Ops::Element* __restrict__ k, const typename Ops::Element* __restrict__ v,
    Mask mask, int heads, int kv_heads, float scale, float* __restrict__ out, float* __restrict__ lse)
{
    using E = typename Ops::Element;
    // q; then per stage k, v and the key rows' segments; then the query rows' segments.
    constexpr int kStage = ForwardStaging<Ops>::kStageBytes / (int)sizeof(E);
    extern __shared__ __align__(16) unsigned char shared[];
    E* sq = reinterpret_cast<E*>(shared);
    E* staged = sq + Ops::kRows;
    int* seg_q = reinterpret_cast<int*>(staged + Stages * kStage);

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile; // the longest (last) causal tiles start first
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const bool vector = aligned16(q) && aligned16(k) && aligned16(v);

    int first, last;
    mask.key_tiles(q0, first, last);
    Ops::load_tile(sq, q + (int64_t)b * seq * q_stride + (int64_t)h * D, q_stride, q0, seq, vector);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);
    if (first < last) stage_keys<Ops>(staged, k, v, kv_base, kv_stride, first, b, mask, vector);
    commit_copies();

    float row_maximum[2] = {-INFINITY, -INFINITY}, row_total[2] = {0.0f, 0.0f};
    Rows<D> acc;
    zero<D>(acc);

#pragma unroll 1
    for (int tile = first; tile < last; ++tile)
    {
        // This tile has landed and every warp is done with the previous one, whose stage the prefetch refills.
        wait_copies<0>();
        __syncthreads();
        const E* sk = staged + (Stages == 2 ? (tile - first) & 1 : 0) * kStage;
        if (Stages == 2 && tile + 1 < last) stage_keys<Ops>(staged + ((tile + 1 - first) & 1) * kStage, k, v, kv_base, kv_stride, tile + 1, b, mask, vector);
        commit_copies();
        const E* sv = sk + Ops::kRows;
        const int* seg_k = reinterpret_cast<const int*>(sk + 2 * Ops::kRows);
        const int k0 = tile * kTile;

        Scores s;
        Ops::scores(sq + 16 * warp * Ops::kStride, sk, s);
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
            for (int n = 0; n < D / 8; ++n)
            {
                acc[n][2 * hr] *= rescale;
                acc[n][2 * hr + 1] *= rescale;
            }
        }
        Ops::accumulate(s, sv, acc);

        if (Stages == 1 && tile + 1 < last)
        {
            __syncthreads();
            stage_keys<Ops>(staged, k, v, kv_base, kv_stride, tile + 1, b, mask, vector);
            commit_copies();
        }
    }
    wait_copies<0>(); // no copy outlives the block where the query tile sees no key

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

// One block per (key tile, kv head, batch): dK and dV of the tile, summed over the group's query heads and the query
// tiles that can see it, in a fixed order. Each warp owns 16 key rows: it computes P^T and dP^T for them against the
// staged query tile, and dV += P^T dO, dK += dS^T Q stay in its registers.
template <class Ops, int D, int Stages>
__device__ void backward_kv(const typename Ops::Element* __restrict__ d_out, const typename Ops::Element* __restrict__ q,
    const typename Ops::Element* __restrict__ k, const typename Ops::Element* __restrict__ v, const float* __restrict__ lse,
    const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale, float* __restrict__ d_k, float* __restrict__ d_v)
{
    using E = typename Ops::Element;
    // k, v; then per stage q, dO and the query rows' lse, delta and segments; then the key rows' segments.
    constexpr int kStage = BackwardKvStaging<Ops>::kStageBytes / (int)sizeof(E);
    extern __shared__ __align__(16) unsigned char shared[];
    E* sk = reinterpret_cast<E*>(shared);
    E* sv = sk + Ops::kRows;
    E* staged = sv + Ops::kRows;
    int* seg_k = reinterpret_cast<int*>(staged + Stages * kStage);

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
    auto stage_queries = [&](int n, E* at) {
        const int h = kvh * group + n / tiles, q0 = (first + n % tiles) * kTile;
        const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
        Ops::load_tile(at, q + q_base, q_stride, q0, seq, vector);
        Ops::load_tile(at + Ops::kRows, d_out + q_base, q_stride, q0, seq, vector);
        if (threadIdx.x < kTile)
        {
            const int row = q0 + threadIdx.x;
            const int64_t at_row = ((int64_t)b * heads + h) * seq + row;
            float* rows = reinterpret_cast<float*>(at + 2 * Ops::kRows);
            rows[threadIdx.x] = row < seq ? lse[at_row] : 0.0f;
            rows[kTile + threadIdx.x] = row < seq ? delta[at_row] : 0.0f;
            reinterpret_cast<int*>(rows)[2 * kTile + threadIdx.x] = mask.segment(b, row);
        }
    };

    Ops::load_tile(sk, k + kv_base, kv_stride, k0, seq, vector);
    Ops::load_tile(sv, v + kv_base, kv_stride, k0, seq, vector);
    if (threadIdx.x < kTile) seg_k[threadIdx.x] = mask.segment(b, k0 + threadIdx.x);
    if (steps > 0) stage_queries(0, staged);
    commit_copies();

    Rows<D> dk, dv;
    zero<D>(dk);
    zero<D>(dv);

#pragma unroll 1
    for (int n = 0; n < steps; ++n)
    {
        // Step n's copies have landed and every warp is done with step n - 1, whose stage the prefetch refills.
        wait_copies<0>();
        __syncthreads();
        const E* sq = staged + (Stages == 2 ? n & 1 : 0) * kStage;
        if (Stages == 2 && n + 1 < steps) stage_queries(n + 1, staged + ((n + 1) & 1) * kStage);
        commit_copies();
        const E* sdo = sq + Ops::kRows;
        const float* s_lse = reinterpret_cast<const float*>(sq + 2 * Ops::kRows);
        const float* s_delta = s_lse + kTile;
        const int* seg_q = reinterpret_cast<const int*>(s_delta + kTile);
        const int q0 = (first + n % tiles) * kTile;

        // Key-major: element (r, c) is key row r of the warp's 16, query row c of the tile.
        Scores p, ds;
        Ops::scores(sk + 16 * warp * Ops::kStride, sq, p);
        const bool whole = mask.whole(q0, k0);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e)
            {
                const int r = 16 * warp + g + 8 * (e >> 1), c = 8 * j + 2 * t + (e & 1);
                p[j][e] = whole || mask.visible(q0 + c, k0 + r, seg_q[c], seg_k[r]) ? exp2f((p[j][e] * scale - s_lse[c]) * kLog2e) : 0.0f;
            }
        Ops::accumulate(p, sdo, dv);
        Ops::scores(sv + 16 * warp * Ops::kStride, sdo, ds);
#pragma unroll
        for (int j = 0; j < kTile / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) ds[j][e] = p[j][e] * (ds[j][e] - s_delta[8 * j + 2 * t + (e & 1)]) * scale;
        Ops::accumulate(ds, sq, dk);

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
template <class Ops, int D, int Stages>
__device__ void backward_q(const typename Ops::Element* __restrict__ d_out, const typename Ops::Element* __restrict__ q,
    const typename Ops::Element* __restrict__ k, const typename Ops::Element* __restrict__ v, const float* __restrict__ lse,
    const float* __restrict__ delta, Mask mask, int heads, int kv_heads, float scale, float* __restrict__ d_q)
{
    using E = typename Ops::Element;
    // q, dO; then per stage k, v and the key rows' segments; then the query rows' segments.
    constexpr int kStage = BackwardQStaging<Ops>::kStageBytes / (int)sizeof(E);
    extern __shared__ __align__(16) unsigned char shared[];
    E* sq = reinterpret_cast<E*>(shared);
    E* sdo = sq + Ops::kRows;
    E* staged = sdo + Ops::kRows;
    int* seg_q = reinterpret_cast<int*>(staged + Stages * kStage);

    const int seq = mask.seq, b = blockIdx.z, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int q0 = (gridDim.x - 1 - blockIdx.x) * kTile;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int64_t q_stride = (int64_t)heads * D, kv_stride = (int64_t)kv_heads * D;
    const int64_t q_base = (int64_t)b * seq * q_stride + (int64_t)h * D;
    const int64_t kv_base = (int64_t)b * seq * kv_stride + (int64_t)kvh * D;
    const bool vector = aligned16(d_out) && aligned16(q) && aligned16(k) && aligned16(v);

    int first, last;
    mask.key_tiles(q0, first, last);
    Ops::load_tile(sq, q + q_base, q_stride, q0, seq, vector);
    Ops::load_tile(sdo, d_out + q_base, q_stride, q0, seq, vector);
    if (threadIdx.x < kTile) seg_q[threadIdx.x] = mask.segment(b, q0 + threadIdx.x);
    if (first < last) stage_keys<Ops>(staged, k, v, kv_base, kv_stride, first, b, mask, vector);
    commit_copies();
    float row_lse[2], row_delta[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr)
    {
        const int row = q0 + 16 * warp + g + 8 * hr;
        row_lse[hr] = row < seq ? lse[((int64_t)b * heads + h) * seq + row] : 0.0f;
        row_delta[hr] = row < seq ? delta[((int64_t)b * heads + h) * seq + row] : 0.0f;
    }

    Rows<D> dq;
    zero<D>(dq);

#pragma unroll 1
    for (int tile = first; tile < last; ++tile)
    {
        // As in forward: this tile has landed, the previous one's stage is free for the prefetch.
        wait_copies<0>();
        __syncthreads();
        const E* sk = staged + (Stages == 2 ? (tile - first) & 1 : 0) * kStage;
        if (Stages == 2 && tile + 1 < last) stage_keys<Ops>(staged + ((tile + 1 - first) & 1) * kStage, k, v, kv_base, kv_stride, tile + 1, b, mask, vector);
        commit_copies();
        const E* sv = sk + Ops::kRows;
        const int* seg_k = reinterpret_cast<const int*>(sk + 2 * Ops::kRows);
        const int k0 = tile * kTile;

        Scores s, ds;
        Ops::scores(sq + 16 * warp * Ops::kStride, sk, s);
        Ops::scores(sdo + 16 * warp * Ops::kStride, sv, ds);
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
        Ops::accumulate(ds, sk, dq);

        if (Stages == 1 && tile + 1 < last)
        {
            __syncthreads();
            stage_keys<Ops>(staged, k, v, kv_base, kv_stride, tile + 1, b, mask, vector);
            commit_copies();
        }
    }
    wait_copies<0>();
    const float one[2] = {1.0f, 1.0f};
    store_rows<D>(d_q + q_base, q_stride, q0, seq, dq, one);
}
}

// D = rowsum(dO * O) per (batch, head, position), written [batch, heads, seq]; one warp per row of q's layout. It reads
// the float32 dO and O at either precision.
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

// Entry points attention_{forward,backward_kv,backward_q}_{tf32,bf16}_d{16,32,64,128}: q, k, v and dO in the operands'
// element type (float32, or the bf16 copies), everything else float32. A minimum of one block per SM lets ptxas use up
// to 255 registers a thread, which the backward's two 16 x D accumulators and two 16 x 64 score fragments per warp need
// at D = 128 (246-255 for TF32, no spills, on sm_90).
#define TRITTER_ATTENTION(P, NAME, D)                                                                                                    \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_forward_##NAME##_d##D(const P<D>::Element* __restrict__ q,           \
        const P<D>::Element* __restrict__ k, const P<D>::Element* __restrict__ v, const int* __restrict__ segments, int mode,      \
        int window, int prefix, int seq, int heads, int kv_heads, float scale, float* __restrict__ out, float* __restrict__ lse)     \
    {                                                                                                                                 \
        const Mask mask{mode, window, prefix, seq, segments};                                                                        \
        if (dynamic_shared_bytes() >= ForwardStaging<P<D>>::kTwoStageBytes)                                                         \
            forward<P<D>, D, 2>(q, k, v, mask, heads, kv_heads, scale, out, lse);                                                   \
        else                                                                                                                          \
            forward<P<D>, D, 1>(q, k, v, mask, heads, kv_heads, scale, out, lse);                                                   \
    }                                                                                                                                 \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_backward_kv_##NAME##_d##D(const P<D>::Element* __restrict__ d_out,   \
        const P<D>::Element* __restrict__ q, const P<D>::Element* __restrict__ k, const P<D>::Element* __restrict__ v,             \
        const float* __restrict__ lse, const float* __restrict__ delta, const int* __restrict__ segments, int mode, int window,     \
        int prefix, int seq, int heads, int kv_heads, float scale, float* __restrict__ d_k, float* __restrict__ d_v)               \
    {                                                                                                                                 \
        const Mask mask{mode, window, prefix, seq, segments};                                                                        \
        if (dynamic_shared_bytes() >= BackwardKvStaging<P<D>>::kTwoStageBytes)                                                      \
            backward_kv<P<D>, D, 2>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_k, d_v);                            \
        else                                                                                                                          \
            backward_kv<P<D>, D, 1>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_k, d_v);                            \
    }                                                                                                                                 \
    TRITTER_KERNEL void __launch_bounds__(kThreads, 1) attention_backward_q_##NAME##_d##D(const P<D>::Element* __restrict__ d_out,    \
        const P<D>::Element* __restrict__ q, const P<D>::Element* __restrict__ k, const P<D>::Element* __restrict__ v,             \
        const float* __restrict__ lse, const float* __restrict__ delta, const int* __restrict__ segments, int mode, int window,     \
        int prefix, int seq, int heads, int kv_heads, float scale, float* __restrict__ d_q)                                         \
    {                                                                                                                                 \
        const Mask mask{mode, window, prefix, seq, segments};                                                                        \
        if (dynamic_shared_bytes() >= BackwardQStaging<P<D>>::kTwoStageBytes)                                                       \
            backward_q<P<D>, D, 2>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_q);                                  \
        else                                                                                                                          \
            backward_q<P<D>, D, 1>(d_out, q, k, v, lse, delta, mask, heads, kv_heads, scale, d_q);                                  \
    }

#define TRITTER_ATTENTION_HEAD_DIMS(P, NAME) \
    TRITTER_ATTENTION(P, NAME, 16) TRITTER_ATTENTION(P, NAME, 32) TRITTER_ATTENTION(P, NAME, 64) TRITTER_ATTENTION(P, NAME, 128)
TRITTER_ATTENTION_HEAD_DIMS(Tf32, tf32)
TRITTER_ATTENTION_HEAD_DIMS(Bf16, bf16)
