// Ternary GEMV/GEMM for inference, batch 1..16 rows: Y[M,N] = X[M,K] (Q[N,K] * scale[N])^T (+ bias[N]).
// CPU twin: the packed ternary matmul of Tritter.Cpu (float64 reference in tests/Tritter.Tests/Ternary).
//
// GPU weight layout (made once at load by ternary_pack_gpu from the canonical format of DESIGN.md §4): rows of
// words_per_row uint32 words, words_per_row a multiple of 4 so that every row starts 16-byte aligned; word w of a row
// holds weights 16w..16w+15, weight 16w+i in byte (i % 4) at bit pair (i / 4), coded c = q + 1 in {0, 1, 2}. Then
// (word >> 2j) & 0x03030303 is four weights as bytes, ready for one __dp4a against four int8 activations, and
// sum(q x) = sum(c x) - sum(x): the row sum of the activations is computed once per activation row.
//
// Floor at M = 1: the packed weights, N*K/4 bytes, read once (the activations, K bytes or 4K bytes, stay in L1/L2).
// 7B shapes: 4096x4096 = 4 MiB, 4096x11008 = 11 MiB, i.e. 1.4 us and 3.9 us at 2.99 TB/s. Operations: 2*M*N*K, far
// below the dp4a rate, but the 2-bit decode costs instructions: the int8 path spends about 0.75 integer instructions
// per weight (shift, mask, dp4a per 4 weights), the float path about 3 (byte extract, convert, FMA).
#include "reduce.cuh"

#define TERNARY_WARPS_PER_BLOCK 8
#define TERNARY_MAX_ROWS 16

__device__ __forceinline__ uint32_t canonical_code(const uint32_t* row, int k)
{
    return (row[k >> 4] >> ((k & 15) * 2)) & 3u;
}

// One thread per GPU-layout word: gathers 16 canonical codes (00 = 0, 01 = +1, 10 = -1) into the dp4a layout.
TRITTER_KERNEL void ternary_pack_gpu(const uint32_t* __restrict__ canonical, int canonical_words_per_row,
                                     uint32_t* __restrict__ packed, int words_per_row, int n, int k)
{
    int64_t total = (int64_t)n * words_per_row;
    for (int64_t i = global_thread(); i < total; i += grid_threads()) {
        int row = (int)(i / words_per_row);
        int word = (int)(i % words_per_row);
        const uint32_t* source = canonical + (int64_t)row * canonical_words_per_row;
        uint32_t out = 0;
        for (int j = 0; j < 16; j++) {
            int col = word * 16 + j;
            uint32_t q1 = 1u; // q = 0 beyond K: c = 1, and the padded activations are 0
            if (col < k) {
                uint32_t code = canonical_code(source, col);
                q1 = code == 1u ? 2u : code == 2u ? 0u : 1u;
            }
            out |= q1 << ((j & 3) * 8 + (j >> 2) * 2);
        }
        packed[i] = out;
    }
}

// out[0..n) = scale[0]: a per-tensor scale spread to the per-feature scales the GEMV kernels read.
TRITTER_KERNEL void ternary_broadcast_scale(const float* __restrict__ scale, float* __restrict__ out, int n)
{
    for (int64_t i = global_thread(); i < n; i += grid_threads()) out[i] = scale[0];
}

// One block per activation row: x[m, 0..k) -> padded int8 xq[m, 0..k_padded) with per-row absmax scaling
// (x_q = clamp(round(x * 127 / max|x|), -127, 127)), x_scale[m] = max|x| / 127, row_sum[m] = sum(x_q).
TRITTER_KERNEL void ternary_quantize_rows_i8(const float* __restrict__ x, int k, int k_padded,
                                             int8_t* __restrict__ xq, float* __restrict__ x_scale, int* __restrict__ row_sum)
{
    __shared__ float peaks[32];
    __shared__ int sums[32];
    const float* row = x + (int64_t)blockIdx.x * k;
    float m = 0.0f;
    for (int i = threadIdx.x; i < k; i += blockDim.x) m = fmaxf(m, fabsf(row[i]));
    m = block_max(m, peaks);
    float inv = m > 0.0f ? 127.0f / m : 0.0f;
    int s = 0;
    int8_t* out = xq + (int64_t)blockIdx.x * k_padded;
    for (int i = threadIdx.x; i < k_padded; i += blockDim.x) {
        int v = i < k ? (int)fminf(fmaxf(rintf(row[i] * inv), -127.0f), 127.0f) : 0;
        out[i] = (int8_t)v;
        s += v;
    }
    s = block_sum(s, sums);
    if (threadIdx.x == 0) {
        row_sum[blockIdx.x] = s;
        x_scale[blockIdx.x] = m / 127.0f;
    }
}

// One block per activation row: x[m, 0..k) -> zero-padded copy xp[m, 0..k_padded) and row_sum[m] = sum(x).
TRITTER_KERNEL void ternary_pad_rows_f32(const float* __restrict__ x, int k, int k_padded,
                                         float* __restrict__ xp, float* __restrict__ row_sum)
{
    __shared__ float sums[32];
    const float* row = x + (int64_t)blockIdx.x * k;
    float* out = xp + (int64_t)blockIdx.x * k_padded;
    float s = 0.0f;
    for (int i = threadIdx.x; i < k_padded; i += blockDim.x) {
        float v = i < k ? row[i] : 0.0f;
        out[i] = v;
        s += v;
    }
    s = block_sum(s, sums);
    if (threadIdx.x == 0) row_sum[blockIdx.x] = s;
}

// Requests one group of four 16-byte chunks of a row per lane (chunks base, base + 32, base + 64, base + 96).
__device__ __forceinline__ void load_group(const uint4* __restrict__ row, int chunks, int base, uint4 (&w)[4])
{
#pragma unroll
    for (int u = 0; u < 4; u++) {
        int c = base + u * 32;
        w[u] = c < chunks ? __ldcs(row + c) : make_uint4(0, 0, 0, 0);
    }
}

__device__ __forceinline__ const uint4* weight_row(const uint32_t* packed, int words_per_row, int feature)
{
    return reinterpret_cast<const uint4*>(packed + (int64_t)feature * words_per_row);
}

// Streams one row of weights whose first group is already in `w`, handing each 4-weight byte group to `dot` with its
// chunk c and unit t in the chunk: weights 64c + 4t .. 64c + 4t + 3, as bytes 0..3 of `codes`.
template <typename Dot>
__device__ __forceinline__ void stream_row(const uint4* __restrict__ row, int chunks, int lane, uint4 (&w)[4], Dot dot)
{
    for (int base = lane; base < chunks; base += 32 * 4) {
        if (base != lane) load_group(row, chunks, base, w);
#pragma unroll
        for (int u = 0; u < 4; u++) {
            int c = base + u * 32;
            if (c >= chunks) break;
            uint32_t words[4] = { w[u].x, w[u].y, w[u].z, w[u].w };
#pragma unroll
            for (int q = 0; q < 4; q++)
#pragma unroll
                for (int j = 0; j < 4; j++) dot((words[q] >> (2 * j)) & 0x03030303u, c, q * 4 + j);
        }
    }
}

// Dots one weight row, whose first group is already in `w`, against M activation rows: `dot` accumulates one 4-weight
// byte group into acc[0..M), and `finish`(m, sum) receives each row's warp-wide sum on lane 0, for live rows only.
template <int M, typename Acc, typename Dot, typename Finish>
__device__ __forceinline__ void dot_row(const uint4* __restrict__ row, int chunks, int lane, uint4 (&w)[4], int rows, Dot dot, Finish finish)
{
    Acc acc[M];
#pragma unroll
    for (int m = 0; m < M; m++) acc[m] = Acc(0);
    stream_row(row, chunks, lane, w, [&](uint32_t codes, int c, int t) { dot(acc, codes, c, t); });
#pragma unroll
    for (int m = 0; m < M; m++) {
        Acc total = warp_sum(acc[m]);
        if (lane == 0 && m < rows) finish(m, total);
    }
}

// Direct variants, for activations too large for shared memory: one warp per output feature, each lane streaming
// 16-byte chunks (64 weights) of the row, four in flight, against activations read through L1 from the padded
// buffers the prepare kernels wrote.
template <int M>
__device__ __forceinline__ void gemv_w2a8(const uint32_t* __restrict__ packed, int words_per_row, int n, int rows,
                                          const int8_t* __restrict__ xq, const float* __restrict__ x_scale,
                                          const int* __restrict__ row_sum, const float* __restrict__ scale,
                                          const float* __restrict__ bias, float* __restrict__ y)
{
    int lane = threadIdx.x & 31;
    int feature = blockIdx.x * TERNARY_WARPS_PER_BLOCK + (threadIdx.x >> 5);
    if (feature >= n) return;
    int chunks = words_per_row / 4;
    const int* x = reinterpret_cast<const int*>(xq);
    uint4 w[4];
    load_group(weight_row(packed, words_per_row, feature), chunks, lane, w);
    dot_row<M, int>(weight_row(packed, words_per_row, feature), chunks, lane, w, rows,
        [&](int (&acc)[M], uint32_t codes, int c, int t) {
#pragma unroll
            for (int m = 0; m < M; m++) acc[m] = __dp4a((int)codes, __ldg(x + (int64_t)m * chunks * 16 + c * 16 + t), acc[m]);
        },
        [&](int m, int total) {
            float v = (float)(total - row_sum[m]) * x_scale[m] * scale[feature];
            y[(int64_t)m * n + feature] = bias ? v + bias[feature] : v;
        });
}

// One 4-weight byte group (codes c in {0,1,2}) against four float activations.
__device__ __forceinline__ float dot_codes(uint32_t codes, float4 x, float acc)
{
    float c0 = (float)(codes & 0xffu), c1 = (float)((codes >> 8) & 0xffu);
    float c2 = (float)((codes >> 16) & 0xffu), c3 = (float)(codes >> 24);
    return fmaf(c0, x.x, fmaf(c1, x.y, fmaf(c2, x.z, fmaf(c3, x.w, acc))));
}

template <int M>
__device__ __forceinline__ void gemv_w2f32(const uint32_t* __restrict__ packed, int words_per_row, int n, int rows,
                                           const float* __restrict__ xp, const float* __restrict__ row_sum,
                                           const float* __restrict__ scale, const float* __restrict__ bias,
                                           float* __restrict__ y)
{
    int lane = threadIdx.x & 31;
    int feature = blockIdx.x * TERNARY_WARPS_PER_BLOCK + (threadIdx.x >> 5);
    if (feature >= n) return;
    int chunks = words_per_row / 4;
    const float4* x = reinterpret_cast<const float4*>(xp);
    uint4 w[4];
    load_group(weight_row(packed, words_per_row, feature), chunks, lane, w);
    dot_row<M, float>(weight_row(packed, words_per_row, feature), chunks, lane, w, rows,
        [&](float (&acc)[M], uint32_t codes, int c, int t) {
#pragma unroll
            for (int m = 0; m < M; m++) acc[m] = dot_codes(codes, __ldg(x + (int64_t)m * chunks * 16 + c * 16 + t), acc[m]);
        },
        [&](int m, float total) {
            float v = (total - row_sum[m]) * scale[feature];
            y[(int64_t)m * n + feature] = bias ? v + bias[feature] : v;
        });
}

// Staged variants, used whenever the activations fit in shared memory. The direct kernels above read each lane's
// activations straight from L1, at a 64-byte stride between lanes, which costs L1 wavefronts rather than bandwidth,
// and need the prepare kernels, whose single block per row is latency-bound. Here each persistent block reads the raw
// float32 activations itself (float4 loads, all in flight at once), quantises or pads them into shared memory, and
// computes the row sums; the activations are permuted so that unit t of chunk c sits at [t][c], and in the inner loop
// the 32 lanes of a warp read 32 consecutive units, free of bank conflicts. Unit: one int (4 int8 activations) or one
// float4 (4 float activations), 16 units per 64-weight chunk. The first weights of each warp are requested before the
// staging starts, so their latency overlaps it.
// Unit u of a row: activations 4u..4u+3, zero beyond k; float4 loads when the row is 16-byte aligned.
__device__ __forceinline__ float4 activation_unit(const float* __restrict__ row, int k, int u)
{
    int i = u * 4;
    if (i + 3 < k && aligned16(row)) return __ldg(reinterpret_cast<const float4*>(row) + u);
    return make_float4(i < k ? row[i] : 0.0f, i + 1 < k ? row[i + 1] : 0.0f, i + 2 < k ? row[i + 2] : 0.0f, i + 3 < k ? row[i + 3] : 0.0f);
}

// Visits this thread's units of a row, eight loads in flight at a time: a plain loop would wait for each load in turn,
// and the staging prologue, not the weight stream, would set the kernel's time.
template <typename Visit>
__device__ __forceinline__ void for_each_unit(const float* __restrict__ row, int k, int units, Visit visit)
{
    const int step = blockDim.x;
    for (int base = threadIdx.x; base < units; base += step * 8) {
        float4 v[8];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int u = base + i * step;
            v[i] = u < units ? activation_unit(row, k, u) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        }
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int u = base + i * step;
            if (u < units) visit(u, v[i]);
        }
    }
}

__device__ __forceinline__ int quantize_unit(float4 v, float inv, int& sum)
{
    int a = (int)fminf(fmaxf(rintf(v.x * inv), -127.0f), 127.0f), b = (int)fminf(fmaxf(rintf(v.y * inv), -127.0f), 127.0f);
    int c = (int)fminf(fmaxf(rintf(v.z * inv), -127.0f), 127.0f), d = (int)fminf(fmaxf(rintf(v.w * inv), -127.0f), 127.0f);
    sum += a + b + c + d;
    return (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
}

template <int M>
__device__ __forceinline__ void gemv_w2a8_staged(const uint32_t* __restrict__ packed, int words_per_row, int n, int rows,
                                                 const float* __restrict__ x, int k, const float* __restrict__ scale,
                                                 const float* __restrict__ bias, float* __restrict__ y)
{
    extern __shared__ int xs_i8[];
    __shared__ float reduce[32];
    __shared__ int int_reduce[32];
    __shared__ float row_scale[M];
    __shared__ int row_sum[M];
    int lane = threadIdx.x & 31;
    int chunks = words_per_row / 4;
    int units = chunks * 16;
    int first = blockIdx.x * TERNARY_WARPS_PER_BLOCK + (threadIdx.x >> 5);
    uint4 w[4];
    if (first < n) load_group(weight_row(packed, words_per_row, first), chunks, lane, w);
    for (int m = 0; m < rows && m < M; m++) {
        const float* row = x + (int64_t)m * k;
        float peak = 0.0f;
        for_each_unit(row, k, units, [&](int, float4 v) {
            peak = fmaxf(peak, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
        });
        peak = block_max(peak, reduce);
        float inv = peak > 0.0f ? 127.0f / peak : 0.0f;
        int sum = 0;
        for_each_unit(row, k, units, [&](int u, float4 v) {
            xs_i8[m * units + (u & 15) * chunks + (u >> 4)] = quantize_unit(v, inv, sum);
        });
        int total = block_sum(sum, int_reduce);
        if (threadIdx.x == 0) { row_scale[m] = peak / 127.0f; row_sum[m] = total; }
    }
    __syncthreads();
    int warps = gridDim.x * TERNARY_WARPS_PER_BLOCK;
    for (int feature = first; feature < n; feature += warps) {
        if (feature != first) load_group(weight_row(packed, words_per_row, feature), chunks, lane, w);
        dot_row<M, int>(weight_row(packed, words_per_row, feature), chunks, lane, w, rows,
            [&](int (&acc)[M], uint32_t codes, int c, int t) {
#pragma unroll
                for (int m = 0; m < M; m++) acc[m] = __dp4a((int)codes, xs_i8[m * units + t * chunks + c], acc[m]);
            },
            [&](int m, int total) {
                float v = (float)(total - row_sum[m]) * row_scale[m] * scale[feature];
                y[(int64_t)m * n + feature] = bias ? v + bias[feature] : v;
            });
    }
}

template <int M>
__device__ __forceinline__ void gemv_w2f32_staged(const uint32_t* __restrict__ packed, int words_per_row, int n, int rows,
                                                  const float* __restrict__ x, int k, const float* __restrict__ scale,
                                                  const float* __restrict__ bias, float* __restrict__ y)
{
    extern __shared__ float4 xs_f32[];
    __shared__ float reduce[32];
    __shared__ float row_sum[M];
    int lane = threadIdx.x & 31;
    int chunks = words_per_row / 4;
    int units = chunks * 16;
    int first = blockIdx.x * TERNARY_WARPS_PER_BLOCK + (threadIdx.x >> 5);
    uint4 w[4];
    if (first < n) load_group(weight_row(packed, words_per_row, first), chunks, lane, w);
    for (int m = 0; m < rows && m < M; m++) {
        const float* row = x + (int64_t)m * k;
        float sum = 0.0f;
        for_each_unit(row, k, units, [&](int u, float4 v) {
            xs_f32[m * units + (u & 15) * chunks + (u >> 4)] = v;
            sum += (v.x + v.y) + (v.z + v.w);
        });
        float total = block_sum(sum, reduce);
        if (threadIdx.x == 0) row_sum[m] = total;
    }
    __syncthreads();
    int warps = gridDim.x * TERNARY_WARPS_PER_BLOCK;
    for (int feature = first; feature < n; feature += warps) {
        if (feature != first) load_group(weight_row(packed, words_per_row, feature), chunks, lane, w);
        dot_row<M, float>(weight_row(packed, words_per_row, feature), chunks, lane, w, rows,
            [&](float (&acc)[M], uint32_t codes, int c, int t) {
#pragma unroll
                for (int m = 0; m < M; m++) acc[m] = dot_codes(codes, xs_f32[m * units + t * chunks + c], acc[m]);
            },
            [&](int m, float total) {
                float v = (total - row_sum[m]) * scale[feature];
                y[(int64_t)m * n + feature] = bias ? v + bias[feature] : v;
            });
    }
}

#define TERNARY_GEMV_ENTRY(M)                                                                                              \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2a8_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const int8_t* xq,                \
                           const float* x_scale, const int* row_sum, const float* scale, const float* bias, float* y)      \
    { gemv_w2a8<M>(packed, words_per_row, n, rows, xq, x_scale, row_sum, scale, bias, y); }                               \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2f32_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const float* xp,               \
                            const float* row_sum, const float* scale, const float* bias, float* y)                         \
    { gemv_w2f32<M>(packed, words_per_row, n, rows, xp, row_sum, scale, bias, y); }

#define TERNARY_GEMV_STAGED_ENTRY(M)                                                                                       \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2a8_staged_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const float* x, int k,    \
                                  const float* scale, const float* bias, float* y)                                         \
    { gemv_w2a8_staged<M>(packed, words_per_row, n, rows, x, k, scale, bias, y); }                                         \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2f32_staged_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const float* x, int k,   \
                                   const float* scale, const float* bias, float* y)                                        \
    { gemv_w2f32_staged<M>(packed, words_per_row, n, rows, x, k, scale, bias, y); }

// Row counts instantiated: the launcher picks the smallest that holds the batch (rows beyond it are read, never
// written) and loops over larger batches. Staged kernels stop at 8 rows: 16 would spill and rarely fit shared memory.
TERNARY_GEMV_ENTRY(1)
TERNARY_GEMV_ENTRY(2)
TERNARY_GEMV_ENTRY(4)
TERNARY_GEMV_ENTRY(8)
TERNARY_GEMV_ENTRY(16)
TERNARY_GEMV_STAGED_ENTRY(1)
TERNARY_GEMV_STAGED_ENTRY(2)
TERNARY_GEMV_STAGED_ENTRY(4)
TERNARY_GEMV_STAGED_ENTRY(8)
