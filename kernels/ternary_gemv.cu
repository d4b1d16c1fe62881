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
// per weight (shift, mask, dp4a per 4 weights), the float path of the M >= 2 kernels about 3 (byte extract, convert,
// FMA; the convert runs at a quarter of the FMA rate), the batch-1 float path about 1.6 (LOP3 and bfloat16x2 FMA per
// two weights, one mma per 8 weights a lane).
// Achieved at batch 1 (H100, graph of back-to-back launches over weight sets > L2, bench/results/nvidia-h100-80gb-hbm3/
// 2026-11-23-gemv-ramp.md), packed weight bytes over time against the 3.0 TB/s copy: int8 23% / 41% / 34%, float32
// 23% / 31% / 30% on 4096x4096 / 4096x11008 / 11008x4096 (6.0-12.4 us; the floor is 1.4-3.8 us). Where the time goes
// (int8, fits over the shapes): t = 4.4 us + bytes / 2.2 TB/s; an empty kernel costs 1.1 us a launch in such a graph,
// a pure read of the same bytes t = 1.5 us + bytes / 2.8 TB/s (47% / 69% of copy: 80% is out of reach of any single
// launch of these sizes), and the same stream without the activation prologue (activations prepared beforehand)
// 2.4 us + bytes / 1.8 TB/s. Preparing the activations in a separate kernel costs more (one more launch) than it saves.
// Batch 16, int8: 32 / 66 / 72 us (2.2-3.1x faster than 16 batch-1 launches).
#include "reduce.cuh"
#include "sqrelu.cuh"

// The absmax floor of the int8 activation quantiser, as on the CPU (Int8Activations.MinAbsMax): an all-zero row
// quantises to zeros with a finite scale.
#define TERNARY_MIN_ABSMAX 1e-5f

// One output feature of the product from its sum: scaled, plus its bias.
__device__ __forceinline__ float feature_value(float v, int feature, const float* __restrict__ scale, const float* __restrict__ bias)
{
    return bias ? fmaf(v, scale[feature], bias[feature]) : v * scale[feature];
}

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

__device__ __forceinline__ const uint4* weight_row(const uint32_t* packed, int words_per_row, int feature)
{
    return reinterpret_cast<const uint4*>(packed + (int64_t)feature * words_per_row);
}

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

// Under a programmatic dependent launch (sm_90), waits for the previous kernel's results and lets the next kernel
// launch, so that its launch latency hides behind this one's stream; without one (or below sm_90) it costs nothing.
__device__ __forceinline__ void dependency_wait()
{
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Where the kernels wait: before their first weight loads, since the kernel they depend on may have written the weights
// (ternary_pack_gpu in PackedTernaryMatmul). Sweep knob TERNARY_PREFETCH_BEFORE_WAIT: wait after the first weight loads
// instead, which is right only where the weights are fixed (arranged at load), to measure what the overlap gains.
__device__ __forceinline__ void wait_before_weights()
{
#ifndef TERNARY_PREFETCH_BEFORE_WAIT
    dependency_wait();
#endif
}

__device__ __forceinline__ void wait_after_first_weights()
{
#ifdef TERNARY_PREFETCH_BEFORE_WAIT
    dependency_wait();
#endif
}

// The largest magnitude of a unit's four activations.
__device__ __forceinline__ float abs_max4(float4 v)
{
    return fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
}

// Prepare kernels of the batch GEMVs, one block per activation row, all rows at once: x[m, 0..k) -> padded int8
// xq[m, 0..k_padded) with per-row absmax scaling (x_q = clamp(round(x * 127 / max|x|), -127, 127)),
// x_scale[m] = max|x| / 127, row_sum[m] = sum(x_q); k_padded a multiple of 64.
TRITTER_KERNEL void ternary_quantize_rows_i8(const float* __restrict__ x, int k, int k_padded,
                                             int8_t* __restrict__ xq, float* __restrict__ x_scale, int* __restrict__ row_sum)
{
    __shared__ float peaks[32];
    __shared__ int sums[32];
    dependency_wait();
    const float* row = x + (int64_t)blockIdx.x * k;
    const int units = k_padded / 4;
    float peak = 0.0f;
    for_each_unit(row, k, units, [&](int, float4 v) { peak = fmaxf(peak, abs_max4(v)); });
    peak = fmaxf(block_max(peak, peaks), TERNARY_MIN_ABSMAX);
    const float inv = 127.0f / peak;
    int* out = reinterpret_cast<int*>(xq + (int64_t)blockIdx.x * k_padded);
    int sum = 0;
    for_each_unit(row, k, units, [&](int u, float4 v) { out[u] = quantize_unit(v, inv, sum); });
    sum = block_sum(sum, sums);
    if (threadIdx.x == 0) {
        row_sum[blockIdx.x] = sum;
        x_scale[blockIdx.x] = peak / 127.0f;
    }
}

// x[m, 0..k) -> zero-padded copy xp[m, 0..k_padded) and row_sum[m] = sum(x).
TRITTER_KERNEL void ternary_pad_rows_f32(const float* __restrict__ x, int k, int k_padded,
                                         float* __restrict__ xp, float* __restrict__ row_sum)
{
    __shared__ float sums[32];
    dependency_wait();
    const float* row = x + (int64_t)blockIdx.x * k;
    float4* out = reinterpret_cast<float4*>(xp + (int64_t)blockIdx.x * k_padded);
    float sum = 0.0f;
    for_each_unit(row, k, k_padded / 4, [&](int u, float4 v) {
        out[u] = v;
        sum += (v.x + v.y) + (v.z + v.w);
    });
    sum = block_sum(sum, sums);
    if (threadIdx.x == 0) row_sum[blockIdx.x] = sum;
}

// Float32 batch kernels (2..16 rows, and one row past the batch-1 kernels' shared memory): one warp per output
// feature, each lane streaming 16-byte chunks (64 weights) of the row, four in flight. They stay on this design because
// the int8 batch design below, applied to float32 (M float4 activation loads through L1 per 4 weights, the 4 lanes of a
// row 256 bytes apart), measured 2.1-2.8x slower at 16 rows (bench/results/nvidia-h100-80gb-hbm3/2026-11-23-gemv-ramp.md):
// the float path wants its activations laid out for the loads (or tensor cores, as the batch-1 kernel) first.
#define TERNARY_WARPS_PER_BLOCK 8

// Requests one group of four 16-byte chunks of a row per lane (chunks base, base + 32, base + 64, base + 96).
__device__ __forceinline__ void load_group(const uint4* __restrict__ row, int chunks, int base, uint4 (&w)[4])
{
#pragma unroll
    for (int u = 0; u < 4; u++) {
        int c = base + u * 32;
        w[u] = c < chunks ? __ldcs(row + c) : make_uint4(0, 0, 0, 0);
    }
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

// One 4-weight byte group (codes c in {0,1,2}) against four float activations.
__device__ __forceinline__ float dot_codes(uint32_t codes, float4 x, float acc)
{
    float c0 = (float)(codes & 0xffu), c1 = (float)((codes >> 8) & 0xffu);
    float c2 = (float)((codes >> 16) & 0xffu), c3 = (float)(codes >> 24);
    return fmaf(c0, x.x, fmaf(c1, x.y, fmaf(c2, x.z, fmaf(c3, x.w, acc))));
}

// Direct variant, for activations too large for shared memory: activations read through L1 from the padded buffer
// ternary_pad_rows_f32 wrote.
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
        [&](int m, float total) { y[(int64_t)m * n + feature] = feature_value(total - row_sum[m], feature, scale, bias); });
}

// Staged variant, used whenever the activations fit in shared memory. The direct kernel above reads each lane's
// activations straight from L1, at a 64-byte stride between lanes, which costs L1 wavefronts rather than bandwidth.
// Here each persistent block reads the raw float32 activations itself (float4 loads, all in flight at once), pads them
// into shared memory and computes the row sums; the activations are permuted so that unit t of chunk c sits at [t][c],
// and in the inner loop the 32 lanes of a warp read 32 consecutive units, free of bank conflicts. The first weights of
// each warp are requested before the staging starts, so their latency overlaps it.
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
            [&](int m, float total) { y[(int64_t)m * n + feature] = feature_value(total - row_sum[m], feature, scale, bias); });
    }
}

#define TERNARY_GEMV_F32_ENTRY(M)                                                                                          \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2f32_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const float* xp,               \
                            const float* row_sum, const float* scale, const float* bias, float* y)                         \
    { gemv_w2f32<M>(packed, words_per_row, n, rows, xp, row_sum, scale, bias, y); }

#define TERNARY_GEMV_F32_STAGED_ENTRY(M)                                                                                   \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_WARPS_PER_BLOCK * 32)                                                    \
    ternary_gemv_w2f32_staged_m##M(const uint32_t* packed, int words_per_row, int n, int rows, const float* x, int k,   \
                                   const float* scale, const float* bias, float* y)                                        \
    { gemv_w2f32_staged<M>(packed, words_per_row, n, rows, x, k, scale, bias, y); }

// Row counts instantiated: the launcher picks the smallest that holds the batch (rows beyond it are read, never
// written) and loops over larger batches. Staged kernels stop at 8 rows: 16 would spill and rarely fit shared memory.
TERNARY_GEMV_F32_ENTRY(1)
TERNARY_GEMV_F32_ENTRY(2)
TERNARY_GEMV_F32_ENTRY(4)
TERNARY_GEMV_F32_ENTRY(8)
TERNARY_GEMV_F32_ENTRY(16)
TERNARY_GEMV_F32_STAGED_ENTRY(1)
TERNARY_GEMV_F32_STAGED_ENTRY(2)
TERNARY_GEMV_F32_STAGED_ENTRY(4)
TERNARY_GEMV_F32_STAGED_ENTRY(8)

// Batch-1 kernels (decode), whenever the prepared activations fit in shared memory. Each warp takes groups of 8 weight
// rows, lane (g, t) streaming row g, chunks t, t + 4, ...: one load instruction of a warp reads 64 contiguous bytes of
// each of 8 rows, TERNARY_ROW1_STEPS such loads in flight per lane, through the non-coherent path without allocating
// in L1. A team of `parts` warps splits the K of one group between them (so that N = 4096 still keeps every SM
// streaming) and adds its partial sums through shared memory in a fixed order. Persistent blocks: each prepares the
// activations once (the weight loads of its first group already in flight) and then loops over groups. Their epilogue
// (write_group) also does the decode step's element-wise work that follows two of its products, so that it costs no
// launch: the residual add after the attention output's product, and the gated activation of the gate|up product.
// Work done in the prologue instead (every block normalising or gating its whole input row) measured slower than the
// launch it saved: 256 blocks re-reading 3-5x the activation bytes from L2 (bench/results/nvidia-h100-80gb-hbm3/
// 2026-12-07-session.md).
// - int8 (paper scheme): the codes of 4 weights against 4 int8 activations per __dp4a.
// - float32 (reference scheme): tensor cores. x is split exactly into three bfloat16 parts (8 + 8 + 8 significant bits
//   make a float32's 24), the three rows of the A operand of mma.m16n8k16 (the other 13 rows zero), and the codes become
//   bfloat16 c = 128 + c - 128 (OR into the mantissa of 128, one bfloat16x2 FMA): two integer and one FMA instruction
//   per two weights, where a float FMA path spends three per weight, more than the memory stream allows. Products are
//   exact and each mma's fp32 sum spans 16 weights; the chunk sums are added in float32 on the CUDA cores.
// Floor: N*K/4 packed bytes from memory; activations (K floats, read once per block from L2), scales and outputs are
// below 1% of it for the 7B shapes.
#ifndef TERNARY_ROW1_WARPS
#define TERNARY_ROW1_WARPS 8
#endif
#ifndef TERNARY_ROW1_STEPS
#define TERNARY_ROW1_STEPS 4
#endif

__device__ __forceinline__ uint4 stream_load(const uint4* p)
{
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

// The weights of steps first, first + stride, ... (TERNARY_ROW1_STEPS of them) of one row for lane t: chunk 4 step + t,
// zero beyond the row or for a dead row.
__device__ __forceinline__ void load_steps(const uint4* __restrict__ row, bool live, int chunks, int first, int stride, int t,
                                           uint4 (&w)[TERNARY_ROW1_STEPS])
{
#pragma unroll
    for (int u = 0; u < TERNARY_ROW1_STEPS; u++) {
        int chunk = 4 * (first + u * stride) + t;
        w[u] = live && chunk < chunks ? stream_load(row + chunk) : make_uint4(0, 0, 0, 0);
    }
}

// The team layout of a block: warp = team * parts + part. All teams run the same number of iterations, since each
// ends with a block barrier.
struct GemvTeams {
    int lane, g, t, warp, team, part, teams, all_teams, groups, iterations, first_group;
    __device__ __forceinline__ GemvTeams(int n, int parts, int rows_per_group)
    {
        lane = threadIdx.x & 31;
        g = lane >> 2;
        t = lane & 3;
        warp = threadIdx.x >> 5;
        team = warp / parts;
        part = warp % parts;
        teams = TERNARY_ROW1_WARPS / parts;
        all_teams = gridDim.x * teams;
        groups = (n + rows_per_group - 1) / rows_per_group;
        iterations = (groups + all_teams - 1) / all_teams;
        first_group = blockIdx.x * teams + team;
    }
};

// The outputs of one group of `rows` features from base on, lane l < rows holding total(l) of feature base + l. Plain:
// y[f], plus residual[f] where given (the residual add after the attention output's product, rounded once as add_f32).
// Gated pairs (the MLP's gate|up product, its rows interleaved: feature 2i gate i, 2i + 1 up i): lane l < rows / 2
// writes y[i] = sqrelu(gate i) * up i, the bits of decode_gated_sqrelu_f32 on the plain product, which is never written.
template <typename Total>
__device__ __forceinline__ void write_group(int lane, int base, int rows, int n, Total total, const float* __restrict__ scale,
                                            const float* __restrict__ bias, const float* __restrict__ residual, int gated_pairs,
                                            float* __restrict__ y)
{
    if (gated_pairs) {
        const int f = base + 2 * lane;
        if (lane < rows / 2 && f + 1 < n)
            y[f / 2] = sqrelu_gated(feature_value(total(2 * lane), f, scale, bias), feature_value(total(2 * lane + 1), f + 1, scale, bias));
    } else if (lane < rows && base + lane < n) {
        const float v = feature_value(total(lane), base + lane, scale, bias);
        y[base + lane] = residual ? __fadd_rn(residual[base + lane], v) : v;
    }
}

TRITTER_KERNEL void __launch_bounds__(TERNARY_ROW1_WARPS * 32)
ternary_gemv_w2a8_row1(const uint32_t* __restrict__ packed, int words_per_row, int n, const float* __restrict__ x, int k,
                       int parts, const float* __restrict__ scale, const float* __restrict__ bias, const float* __restrict__ residual,
                       int gated_pairs, float* __restrict__ y)
{
    extern __shared__ int4 xs_row1_i8[];
    __shared__ float reduce[32];
    __shared__ int int_reduce[32];
    __shared__ int partial[2][TERNARY_ROW1_WARPS][8];
    const GemvTeams at(n, parts, 8);
    const int chunks = words_per_row >> 2, steps = (chunks + 3) >> 2, units = chunks * 16;
    uint4 w[TERNARY_ROW1_STEPS];
    wait_before_weights();
    {
        int row = at.first_group * 8 + at.g;
        load_steps(weight_row(packed, words_per_row, row), at.first_group < at.groups && row < n, chunks, at.part, parts, at.t, w);
    }
    wait_after_first_weights();
    float peak = 0.0f;
    for_each_unit(x, k, units, [&](int, float4 v) {
        peak = fmaxf(peak, abs_max4(v));
    });
    peak = fmaxf(block_max(peak, reduce), TERNARY_MIN_ABSMAX);
    const float inv = 127.0f / peak, x_scale = peak / 127.0f;
    int* xs = reinterpret_cast<int*>(xs_row1_i8);
    int sum = 0;
    for_each_unit(x, k, units, [&](int u, float4 v) { xs[u] = quantize_unit(v, inv, sum); });
    const int row_sum = block_sum(sum, int_reduce); // ends in a barrier after every thread's stores

    int group = at.first_group;
    for (int it = 0; it < at.iterations; it++, group += at.all_teams) {
        const int row = group * 8 + at.g;
        const bool live = group < at.groups && row < n;
        const uint4* wrow = weight_row(packed, words_per_row, row);
        int acc = 0;
        for (int s0 = at.part; s0 < steps; s0 += parts * TERNARY_ROW1_STEPS) {
            if (it != 0 || s0 != at.part) load_steps(wrow, live, chunks, s0, parts, at.t, w);
#pragma unroll
            for (int u = 0; u < TERNARY_ROW1_STEPS; u++) {
                const int chunk = 4 * (s0 + u * parts) + at.t;
                if (chunk >= chunks) break;
                const uint32_t words[4] = { w[u].x, w[u].y, w[u].z, w[u].w };
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const int4 xv = xs_row1_i8[chunk * 4 + q];
                    const int xq[4] = { xv.x, xv.y, xv.z, xv.w };
#pragma unroll
                    for (int j = 0; j < 4; j++) acc = __dp4a((int)((words[q] >> (2 * j)) & 0x03030303u), xq[j], acc);
                }
            }
        }
        acc += __shfl_xor_sync(0xffffffffu, acc, 1);
        acc += __shfl_xor_sync(0xffffffffu, acc, 2);
        if (at.t == 0) partial[it & 1][at.warp][at.g] = acc;
        __syncthreads();
        if (at.part == 0 && group < at.groups)
            write_group(at.lane, group * 8, 8, n, [&](int l) {
                int total = 0;
                for (int p = 0; p < parts; p++) total += partial[it & 1][at.team * parts + p][l];
                return (float)(total - row_sum) * x_scale;
            }, scale, bias, residual, gated_pairs, y);
    }
}

// Lane (g, t)'s B fragment (the activations) for unit u (activations 4u..4u+3) of split part g, laid out so that the
// 12 lanes of a warp that read one k step read 96 contiguous bytes: index ((step * 16 + u % 16) * 3 + g) * 4 + t, with
// the chunk u / 16 = 4 step + t. Each entry holds the bfloat16 pairs (x0, x2) and (x1, x3), as A's registers pair the
// codes of bytes 0 and 2, 1 and 3 of a word.
__device__ __forceinline__ int b_fragment_index(int u, int g)
{
    const int chunk = u >> 4;
    return (((chunk >> 2) * 16 + (u & 15)) * 3 + g) * 4 + (chunk & 3);
}

// x = hi + mid + lo exactly, each a bfloat16 (truncations, so every remainder is exact in float32).
__device__ __forceinline__ void split_bf16(float x, uint32_t (&part)[3])
{
    const uint32_t hi = __float_as_uint(x) & 0xffff0000u;
    const float r = x - __uint_as_float(hi);
    const uint32_t mid = __float_as_uint(r) & 0xffff0000u;
    part[0] = hi >> 16;
    part[1] = mid >> 16;
    part[2] = __float_as_uint(r - __uint_as_float(mid)) >> 16;
}

// The two codes of pair j (bits 2j and 16 + 2j, j < 3; the caller shifts pair 3 down) as bfloat16 values c * 4^j: OR
// into the mantissa of 128 (ulp 1) in one LOP3, subtract 128 in one bfloat16x2 FMA. The activations of pair j carry
// the factor 4^-j, so that no shift is spent on pairs 0..2.
__device__ __forceinline__ uint32_t codes_bf16x2(uint32_t bits, int j)
{
    uint32_t v, out;
    asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(v) : "r"(bits), "r"(0x00030003u << (2 * j)), "r"(0x43004300u));
    asm("fma.rn.bf16x2 %0, %1, %2, %3;" : "=r"(out) : "r"(v), "r"(0x3f803f80u), "r"(0xc300c300u));
    return out;
}

// The A fragment of pair j of one word of rows g (lo) and g + 8 (hi): codes of bytes 0 and 2 (k 2t, 2t + 1) and of
// bytes 1 and 3 (k 2t + 8, 2t + 9).
__device__ __forceinline__ void a_fragment(uint32_t lo, uint32_t hi, int j, uint32_t (&a)[4])
{
    const int shift = j == 3 ? 6 : 0, pair = j == 3 ? 0 : j;
    a[0] = codes_bf16x2(lo >> shift, pair);
    a[1] = codes_bf16x2(hi >> shift, pair);
    a[2] = codes_bf16x2(lo >> (shift + 8), pair);
    a[3] = codes_bf16x2(hi >> (shift + 8), pair);
}

// The factor of the activations of pair j (unit u: j = u % 4), undoing the 4^j of codes_bf16x2.
__device__ __forceinline__ float pair_factor(int u)
{
    const int j = u & 3;
    return j == 3 ? 1.0f : j == 2 ? 0.0625f : j == 1 ? 0.25f : 1.0f;
}

// D[16 x 8] (+)= A[16 x 16] B[16 x 8], bfloat16 products, float32 sums; zero_c starts from zero.
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint2 b, bool zero_c)
{
    if (zero_c)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %10, %10, %10};"
                     : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b.x), "r"(b.y), "f"(0.0f));
    else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b.x), "r"(b.y));
}

// The weights are the A operand, 16 rows: lane (g, t) streams rows g and g + 8 of a group of 16. The activations are
// the B operand, columns 0..2 the three bfloat16 parts (lanes g < 3), the other five zero; D's columns 0..2 summed are
// the row's dot product.
TRITTER_KERNEL void __launch_bounds__(TERNARY_ROW1_WARPS * 32)
ternary_gemv_w2f32_row1(const uint32_t* __restrict__ packed, int words_per_row, int n, const float* __restrict__ x, int k,
                        int parts, const float* __restrict__ scale, const float* __restrict__ bias, const float* __restrict__ residual,
                        int gated_pairs, float* __restrict__ y)
{
    extern __shared__ uint2 xs_row1_bf16[];
    __shared__ float reduce[32];
    __shared__ float partial[2][TERNARY_ROW1_WARPS][16];
    const GemvTeams at(n, parts, 16);
    const int chunks = words_per_row >> 2, steps = (chunks + 3) >> 2, units = steps * 64;
    uint4 lo[TERNARY_ROW1_STEPS], hi[TERNARY_ROW1_STEPS];
    wait_before_weights();
    {
        const int row = at.first_group * 16 + at.g;
        const bool live = at.first_group < at.groups;
        load_steps(weight_row(packed, words_per_row, row), live && row < n, chunks, at.part, parts, at.t, lo);
        load_steps(weight_row(packed, words_per_row, row + 8), live && row + 8 < n, chunks, at.part, parts, at.t, hi);
    }
    wait_after_first_weights();
    // Every unit of every step, zeros included: a lane past the row's end multiplies its zero codes by these.
    float sum = 0.0f;
    for_each_unit(x, k, units, [&](int u, float4 v) {
        uint32_t p0[3], p1[3], p2[3], p3[3];
        const float f = pair_factor(u);
        split_bf16(v.x * f, p0);
        split_bf16(v.y * f, p1);
        split_bf16(v.z * f, p2);
        split_bf16(v.w * f, p3);
#pragma unroll
        for (int s = 0; s < 3; s++) xs_row1_bf16[b_fragment_index(u, s)] = make_uint2(p0[s] | (p2[s] << 16), p1[s] | (p3[s] << 16));
        sum += (v.x + v.y) + (v.z + v.w);
    });
    const float row_sum = block_sum(sum, reduce);

    int group = at.first_group;
    for (int it = 0; it < at.iterations; it++, group += at.all_teams) {
        const int row = group * 16 + at.g;
        const bool live = group < at.groups;
        const uint4* wlo = weight_row(packed, words_per_row, row);
        const uint4* whi = weight_row(packed, words_per_row, row + 8);
        float acc_lo = 0.0f, acc_hi = 0.0f;
        for (int s0 = at.part; s0 < steps; s0 += parts * TERNARY_ROW1_STEPS) {
            if (it != 0 || s0 != at.part) {
                load_steps(wlo, live && row < n, chunks, s0, parts, at.t, lo);
                load_steps(whi, live && row + 8 < n, chunks, s0, parts, at.t, hi);
            }
#pragma unroll
            for (int u = 0; u < TERNARY_ROW1_STEPS; u++) {
                const int step = s0 + u * parts;
                if (step >= steps) break;
                const uint32_t wl[4] = { lo[u].x, lo[u].y, lo[u].z, lo[u].w }, wh[4] = { hi[u].x, hi[u].y, hi[u].z, hi[u].w };
                float d[4][4];
#pragma unroll
                for (int q = 0; q < 4; q++) {
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        const uint2 b = at.g < 3 ? xs_row1_bf16[((step * 16 + q * 4 + j) * 3 + at.g) * 4 + at.t] : make_uint2(0, 0);
                        uint32_t a[4];
                        a_fragment(wl[q], wh[q], j, a);
                        mma_bf16(d[q], a, b, j == 0);
                    }
                }
                acc_lo += ((d[0][0] + d[0][1]) + (d[1][0] + d[1][1])) + ((d[2][0] + d[2][1]) + (d[3][0] + d[3][1]));
                acc_hi += ((d[0][2] + d[0][3]) + (d[1][2] + d[1][3])) + ((d[2][2] + d[2][3]) + (d[3][2] + d[3][3]));
            }
        }
        // Columns 0, 1 (lane t = 0) and 2 (t = 1) hold the three parts; the other columns are zero.
        acc_lo += __shfl_xor_sync(0xffffffffu, acc_lo, 1);
        acc_hi += __shfl_xor_sync(0xffffffffu, acc_hi, 1);
        if (at.t == 0) {
            partial[it & 1][at.warp][at.g] = acc_lo;
            partial[it & 1][at.warp][at.g + 8] = acc_hi;
        }
        __syncthreads();
        if (at.part == 0 && group < at.groups)
            write_group(at.lane, group * 16, 16, n, [&](int l) {
                float total = 0.0f;
                for (int p = 0; p < parts; p++) total += partial[it & 1][at.team * parts + p][l];
                return total - row_sum;
            }, scale, bias, residual, gated_pairs, y);
    }
}

// Int8 batch kernels: 2..16 activation rows (prefill chunks, batched decode), and one row whose activations do not fit
// the batch-1 kernel's shared memory. The lanes, teams and persistent blocks of the batch-1 kernels, every weight read
// once for all M rows (M accumulators per lane: register blocking over rows). The activations come prepared by
// ternary_quantize_rows_i8 (one block per row, the rows in parallel) and are read through L1: a block that prepared
// them itself would run M row reductions, each a chain of L2 round trips and block barriers, before its first dot
// product, as the former int8 staged kernels did (57-120 us at M = 16, now 32-72 us). Activation reads per lane and
// chunk: 4 x 16 bytes per row, the 4 lanes t of a row reading adjacent chunks and the 8 rows g of a warp the same ones
// (broadcast); at M = 16 these L1 reads, not the weight stream, set the time.
template <int M, typename Acc, typename Dot, typename Finish>
__device__ __forceinline__ void gemv_rows(const uint32_t* __restrict__ packed, int words_per_row, int n, int parts, Dot dot, Finish finish)
{
    __shared__ Acc partial[2][TERNARY_ROW1_WARPS][8][M];
    const GemvTeams at(n, parts, 8);
    const int chunks = words_per_row >> 2, steps = (chunks + 3) >> 2;
    uint4 w[TERNARY_ROW1_STEPS];
    wait_before_weights();
    {
        const int row = at.first_group * 8 + at.g;
        load_steps(weight_row(packed, words_per_row, row), at.first_group < at.groups && row < n, chunks, at.part, parts, at.t, w);
    }
    wait_after_first_weights();

    int group = at.first_group;
    for (int it = 0; it < at.iterations; it++, group += at.all_teams) {
        const int row = group * 8 + at.g;
        const bool live = group < at.groups && row < n;
        const uint4* wrow = weight_row(packed, words_per_row, row);
        Acc acc[M];
#pragma unroll
        for (int m = 0; m < M; m++) acc[m] = Acc(0);
        for (int s0 = at.part; s0 < steps; s0 += parts * TERNARY_ROW1_STEPS) {
            if (it != 0 || s0 != at.part) load_steps(wrow, live, chunks, s0, parts, at.t, w);
#pragma unroll
            for (int u = 0; u < TERNARY_ROW1_STEPS; u++) {
                const int chunk = 4 * (s0 + u * parts) + at.t;
                if (chunk >= chunks) break;
                dot(acc, w[u], chunk);
            }
        }
#pragma unroll
        for (int m = 0; m < M; m++) {
            acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], 1);
            acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], 2);
            if (at.t == 0) partial[it & 1][at.warp][at.g][m] = acc[m];
        }
        __syncthreads();
        const int feature = group * 8 + at.lane;
        if (at.part == 0 && at.lane < 8 && group < at.groups && feature < n) {
#pragma unroll
            for (int m = 0; m < M; m++) {
                Acc total = Acc(0);
                for (int p = 0; p < parts; p++) total += partial[it & 1][at.team * parts + p][at.lane][m];
                finish(m, total, feature);
            }
        }
    }
}

// Row m of xq (int8, k_padded = chunks * 64 bytes a row) as int4 units: unit q of chunk c holds activations
// 64c + 16q .. 64c + 16q + 15, the partners of word q of the chunk.
template <int M>
__device__ __forceinline__ void gemv_w2a8_rows(const uint32_t* __restrict__ packed, int words_per_row, int n, int rows, int parts,
                                               const int8_t* __restrict__ xq, const float* __restrict__ x_scale,
                                               const int* __restrict__ row_sum, const float* __restrict__ scale,
                                               const float* __restrict__ bias, float* __restrict__ y)
{
    const int4* x = reinterpret_cast<const int4*>(xq);
    const int64_t row_units = (int64_t)words_per_row;
    gemv_rows<M, int>(packed, words_per_row, n, parts,
        [&](int (&acc)[M], uint4 wv, int chunk) {
            const uint32_t words[4] = { wv.x, wv.y, wv.z, wv.w };
#pragma unroll
            for (int q = 0; q < 4; q++) {
                uint32_t codes[4];
#pragma unroll
                for (int j = 0; j < 4; j++) codes[j] = (words[q] >> (2 * j)) & 0x03030303u;
#pragma unroll
                for (int m = 0; m < M; m++) {
                    const int4 xv = __ldg(x + m * row_units + chunk * 4 + q);
                    acc[m] = __dp4a((int)codes[0], xv.x, acc[m]);
                    acc[m] = __dp4a((int)codes[1], xv.y, acc[m]);
                    acc[m] = __dp4a((int)codes[2], xv.z, acc[m]);
                    acc[m] = __dp4a((int)codes[3], xv.w, acc[m]);
                }
            }
        },
        [&](int m, int total, int feature) {
            if (m < rows) y[(int64_t)m * n + feature] = feature_value((float)(total - row_sum[m]) * x_scale[m], feature, scale, bias);
        });
}

#define TERNARY_GEMV_ROWS_ENTRY(M)                                                                                         \
    TRITTER_KERNEL void __launch_bounds__(TERNARY_ROW1_WARPS * 32)                                                         \
    ternary_gemv_w2a8_rows_m##M(const uint32_t* packed, int words_per_row, int n, int rows, int parts, const int8_t* xq,  \
                                const float* x_scale, const int* row_sum, const float* scale, const float* bias, float* y) \
    { gemv_w2a8_rows<M>(packed, words_per_row, n, rows, parts, xq, x_scale, row_sum, scale, bias, y); }

// Row counts instantiated: the launcher picks the smallest that holds the pass (rows beyond it are read from the
// prepared buffer, never written) and loops over batches above 16.
TERNARY_GEMV_ROWS_ENTRY(1)
TERNARY_GEMV_ROWS_ENTRY(2)
TERNARY_GEMV_ROWS_ENTRY(4)
TERNARY_GEMV_ROWS_ENTRY(8)
TERNARY_GEMV_ROWS_ENTRY(16)
