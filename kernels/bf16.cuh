// bf16 tensor-core products (mma.sync m16n8k16, fp32 accumulation) with ldmatrix fragment loads, shared by the dense
// matmul (matmul_bf16.cu) and the training attention (attention_bf16.cu).
//
// Fragments of m16n8k16 give lane (g = lane / 4, t = lane % 4) pairs of bf16 along k: A a[0] = (row g, k 2t..2t+1),
// a[1] = (g + 8, 2t), a[2] = (g, 2t + 8), a[3] = (g + 8, 2t + 8); B b0 = (k 2t..2t+1, column g), b1 = (k 2t + 8, g);
// C as m16n8k8's, rows g and g + 8 at columns 2t and 2t + 1 (c[2h + e] = (g + 8h, 2t + e)). An ldmatrix of an 8 x 8
// bf16 matrix gives lane l row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 (.trans: column l / 4 of rows 2 (l % 4) and
// 2 (l % 4) + 1), which is the A layout for rows of k and the B layout for rows of n (.trans: for rows of k).
#pragma once
#include "async_copy.cuh"

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t address, bool transpose)
{
    if (transpose)
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats rounded to nearest bf16, low in the low half: the k order of a fragment register.
__device__ __forceinline__ uint32_t pack_bf16(float low, float high)
{
    uint32_t packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(packed) : "f"(high), "f"(low));
    return packed;
}

// Four floats rounded to nearest bf16 into 8 bytes at p (8-byte aligned), in order.
__device__ __forceinline__ void store_bf16x4(void* p, float a, float b, float c, float d)
{
    *reinterpret_cast<uint2*>(p) = make_uint2(pack_bf16(a, b), pack_bf16(c, d));
}
