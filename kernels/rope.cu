// Rotary position embedding, rotate-half form, over [batch, seq, heads, head_dim]. CPU twin: managed/Tritter.Cpu/Ops/Rope.cs.
//
// Floor of rope_rotate_f32: 8 bytes per element (read, write; the cos/sin table is seq * head_dim * 4 bytes, L2
// resident) and 3 flops per element. rope_angles_f32 builds the table as the CPU does: angle t * theta^(-2i/head_dim)
// in float64 (pow, then sincos), rounded once to float32, so the tables agree except where a last-place difference of
// the float64 libraries straddles a float32 rounding boundary. The rotation uses the CPU's float32 operations without
// FMA contraction, so equal tables give bit-equal outputs. One thread owns a pair (i, i + half) and reads both before
// writing, so input and output may be the same tensor.
#include "rope.cuh"

// Grid-stride over seq * half entries: cosines[t * half + i], sines[t * half + i] at position first_position + t, where
// first_position is read from step_position when that is given (a decode step replayed from a graph: the position
// changes per token, the captured arguments do not).
TRITTER_KERNEL void rope_angles_f32(int sequence, int head_dim, double theta, float* __restrict__ cosines, float* __restrict__ sines,
    int64_t first_position, const int64_t* __restrict__ step_position)
{
    if (step_position != nullptr) first_position = *step_position;
    const int half = head_dim / 2;
    const int64_t count = (int64_t)sequence * half;
    for (int64_t k = global_thread(); k < count; k += grid_threads()) {
        const int t = (int)(k / half), i = (int)(k % half);
        const double angle = (double)(first_position + t) * pow(theta, -2.0 * i / head_dim);
        double s, c;
        sincos(angle, &s, &c);
        cosines[k] = (float)c;
        sines[k] = (float)s;
    }
}

// Grid-stride over rows * half pairs, rows = batch * seq * heads; sign is +1 (forward) or -1 (the transpose, backward).
TRITTER_KERNEL void rope_rotate_f32(const float* x, float* y, const float* __restrict__ cosines, const float* __restrict__ sines,
    int64_t rows, int sequence, int heads, int head_dim, float sign)
{
    const int half = head_dim / 2;
    const int64_t pairs = rows * half;
    for (int64_t p = global_thread(); p < pairs; p += grid_threads()) {
        const int64_t row = p / half;
        const int i = (int)(p % half);
        const int position = (int)(row / heads % sequence);
        const float c = cosines[position * half + i];
        const float s = __fmul_rn(sign, sines[position * half + i]);
        const int64_t at = row * head_dim + i;
        const float x1 = x[at], x2 = x[at + half];
        y[at] = rope_first(x1, x2, c, s);
        y[at + half] = rope_second(x1, x2, c, s);
    }
}
