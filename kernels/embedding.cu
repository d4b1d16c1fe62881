// Token embedding: row gather forward, deterministic scatter-add backward. CPU twin: managed/Tritter.Cpu/Ops/Embedding.cs.
//
// Floor of embedding_forward_f32: 8 bytes per output element (read a table row, write it) and no flops.
// Floor of embedding_backward_f32: 12 bytes per gradient element of a non-padding token (read the output gradient,
// read and write the table row; a repeated id reads and writes its row once) and one add.
//
// The backward pass is deterministic without float atomics: the host groups token positions by id (ids ascending,
// positions ascending within an id), and one block per distinct id adds that id's output-gradient rows to its table
// row in position order, a thread per column. That is the CPU's order (tokens in sequence, one row add each), so the
// result is bit-equal to the CPU's.
#include "common.cuh"

namespace {
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float4 add_rn(float4 a, float4 b)
{
    return make_float4(__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y), __fadd_rn(a.z, b.z), __fadd_rn(a.w, b.w));
}

// Columns handled by this block's threads along grid dimension y, in units of V (float4 or float).
template <typename V>
__device__ __forceinline__ void scatter_rows(const int* __restrict__ positions, int count, int id, const V* __restrict__ dy,
    V* __restrict__ table_gradient, int units)
{
    for (int c = blockIdx.y * blockDim.x + threadIdx.x; c < units; c += gridDim.y * blockDim.x) {
        V acc = table_gradient[(int64_t)id * units + c];
        for (int k = 0; k < count; k++) acc = add_rn(acc, dy[(int64_t)positions[k] * units + c]);
        table_gradient[(int64_t)id * units + c] = acc;
    }
}
}

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

// Grid: (distinct ids, column chunks). plan = [ids (unique)] [offsets (unique + 1)] [positions]: the token positions
// of ids[u] are positions[offsets[u] .. offsets[u + 1]), ascending.
TRITTER_KERNEL void embedding_backward_f32(const int* __restrict__ plan, int unique, const float* __restrict__ output_gradient,
    float* __restrict__ table_gradient, int width)
{
    const int u = blockIdx.x;
    const int id = plan[u];
    const int* offsets = plan + unique;
    const int* positions = plan + 2 * unique + 1 + offsets[u];
    const int count = offsets[u + 1] - offsets[u];
    if ((width & 3) == 0 && aligned16(output_gradient) && aligned16(table_gradient))
        scatter_rows(positions, count, id, reinterpret_cast<const float4*>(output_gradient), reinterpret_cast<float4*>(table_gradient), width / 4);
    else
        scatter_rows(positions, count, id, output_gradient, table_gradient, width);
}
