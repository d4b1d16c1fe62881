// TF32 tensor-core products (mma.sync m16n8k8, fp32 accumulation), shared by the dense matmul and the training attention.
//
// Fragments of m16n8k8 give lane (g = lane / 4, t = lane % 4): A rows g and g + 8 at k slots t and t + 4
// (a[0] = (g, t), a[1] = (g + 8, t), a[2] = (g, t + 4), a[3] = (g + 8, t + 4)); B column g at k slots t and t + 4;
// C rows g and g + 8 at columns 2t and 2t + 1 (c[2h + e] = (g + 8h, 2t + e)). Operands are rounded to TF32 (round to
// nearest, 10 mantissa bits), not truncated, so errors have no bias.
#pragma once
#include "async_copy.cuh"

__device__ __forceinline__ uint32_t to_tf32(float value)
{
    uint32_t bits;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(bits) : "f"(value));
    return bits;
}

__device__ __forceinline__ void mma_tf32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
