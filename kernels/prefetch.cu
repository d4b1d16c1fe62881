// L2 prefetch of bytes a later kernel will read (IPrefetchOps, managed/Tritter.Cuda/CudaBackend.Prefetch.cs). No CPU
// twin: it computes nothing, and the CPU backend's Prefetch does nothing.
//
// Why: a batch-1 decode step is a chain of short kernels, and between its GEMVs (layer norms, attention, element-wise
// ops on one token) the memory stays idle while the next GEMV's weights wait in DRAM. Launched on a second stream
// beside that work, this kernel asks L2 for the next weights, so the GEMV that follows reads them at L2 latency and
// bandwidth. prefetch.global.L2 has no destination register: a warp issues its lines and retires without waiting for
// them, so the kernel holds an SM for the issue time only and never delays the stream it runs beside.

#include "common.cuh"

// The bytes [p, p + bytes) by 32-byte sectors: one warp instruction covers 1 KiB, eight whole 128-byte lines.
TRITTER_KERNEL void l2_prefetch(const char* __restrict__ p, int64_t bytes)
{
    for (int64_t offset = global_thread() * 32; offset < bytes; offset += grid_threads() * 32)
        asm volatile("prefetch.global.L2 [%0];" :: "l"(p + offset));
}
