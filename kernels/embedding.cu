// Token embedding: row gather forward, deterministic scatter-add backward. CPU twin: managed/Tritter.Cpu/Ops/Embedding.cs.
//
// Floor of embedding_forward_f32: 8 bytes per output element (read a table row, write it) and no flops.
// Floor of embedding_backward_f32: 12 bytes per gradient element of a non-padding token (read the output gradient,
// read and write the table row; a repeated id reads and writes its row once) and one add.
//
// The backward pass is deterministic without float atomics and without a plan made on the host: ids are spread over
// buckets (id modulo the bucket count), and the blocks of a bucket walk all the tokens in order, 32 at a time with a
// warp ballot, adding the output-gradient row of each token of their bucket to its id's row, a thread per column. Each
// table row thus receives its tokens' rows in token order, one add each: the CPU's order, so the result is bit-equal
// to the CPU's.
#include "common.cuh"

namespace {
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float4 add_rn(float4 a, float4 b)
{
    return make_float4(__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y), __fadd_rn(a.z, b.z), __fadd_rn(a.w, b.w));
}

constexpr int kPaddingId = 0;
constexpr int kStagedIds = 1024;

// Adds row n of dy to row id of the table gradient, over the columns of this block's threads along grid dimension y,
// in units of V (float4 or float).
template <typename V>
__device__ __forceinline__ void add_row(int64_t n, int id, const V* __restrict__ dy, V* __restrict__ table_gradient, int units)
{
    for (int c = blockIdx.y * blockDim.x + threadIdx.x; c < units; c += gridDim.y * blockDim.x)
        table_gradient[(int64_t)id * units + c] = add_rn(table_gradient[(int64_t)id * units + c], dy[n * units + c]);
}
} // namespace

// Grid: one block per token. output[n] = table[tokens[n]]; an id outside [0, vocab) is reported (kind 1) and its row zeroed.
TRITTER_KERNEL void embedding_forward_f32(const int* __restrict__ tokens, const float* __restrict__ table, float* __restrict__ output, int width,
    int vocab, int* id_error)
{
    const int64_t n = blockIdx.x;
    const int id = tokens[n];
    float* dst = output + n * width;
    if ((unsigned)id >= (unsigned)vocab) {
        if (threadIdx.x == 0) check_id(id, vocab, 1, n, id_error);
        for (int c = threadIdx.x; c < width; c += blockDim.x) dst[c] = 0.0f;
        return;
    }
    const float* src = table + (int64_t)id * width;
    if ((width & 3) == 0 && aligned16(table) && aligned16(output)) {
        const float4* src4 = reinterpret_cast<const float4*>(src);
        float4* dst4 = reinterpret_cast<float4*>(dst);
        for (int c = threadIdx.x; c < width / 4; c += blockDim.x) dst4[c] = __ldg(src4 + c);
    } else {
        for (int c = threadIdx.x; c < width; c += blockDim.x) dst[c] = __ldg(src + c);
    }
}

// Grid: (buckets, column chunks). Block x takes the tokens whose id is x modulo the bucket count, in token order;
// padding is skipped, and an id outside [0, vocab) is reported (kind 1) and skipped.
TRITTER_KERNEL void embedding_backward_f32(const int* __restrict__ tokens, int count, const float* __restrict__ output_gradient,
    float* __restrict__ table_gradient, int width, int vocab, int* id_error)
{
    __shared__ int staged[kStagedIds];
    const unsigned buckets = gridDim.x, bucket = blockIdx.x;
    const int lane = threadIdx.x & 31;
    const bool vector = (width & 3) == 0 && aligned16(output_gradient) && aligned16(table_gradient);
    for (int first = 0; first < count; first += kStagedIds) {
        const int staging = min(kStagedIds, count - first);
        __syncthreads();
        for (int i = threadIdx.x; i < staging; i += blockDim.x) staged[i] = tokens[first + i];
        __syncthreads();
        for (int group = 0; group < staging; group += 32) {
            const int id = group + lane < staging ? staged[group + lane] : kPaddingId;
            const bool valid = (unsigned)id < (unsigned)vocab;
            if (!valid && bucket == 0 && blockIdx.y == 0 && threadIdx.x < 32) check_id(id, vocab, 1, first + group + lane, id_error);
            unsigned mine = __ballot_sync(0xffffffffu, valid && id != kPaddingId && (unsigned)id % buckets == bucket);
            while (mine != 0) {
                const int j = __ffs(mine) - 1;
                mine &= mine - 1;
                const int row_id = __shfl_sync(0xffffffffu, id, j);
                const int64_t n = first + group + j;
                if (vector)
                    add_row(n, row_id, reinterpret_cast<const float4*>(output_gradient), reinterpret_cast<float4*>(table_gradient), width / 4);
                else
                    add_row(n, row_id, output_gradient, table_gradient, width);
            }
        }
    }
}
