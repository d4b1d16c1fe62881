// Test-support kernels for programmatic dependent launch (tests/Tritter.Tests/Native/ProgrammaticLaunchTests.cs). No
// CPU twin: they compute nothing. A kernel launched with LaunchOrder.Programmatic may start while the kernel in front of
// it still runs; these two show that it does start early, and that griddepcontrol.wait still orders its reads after
// everything that kernel wrote, on a stream and inside a captured CUDA graph.
//
// griddepcontrol exists from sm_90 on: the compute_80 PTX compiles both kernels without it, where launches stay ordered.
#include "common.cuh"

// Grid: 1 block of 1 thread. Lets the next kernel on the stream start at once, then spins for at least `nanoseconds` of
// the global timer and only then writes `value` to `*destination`: a dependent that does not wait reads the old value.
TRITTER_KERNEL void launch_order_write_late(long long nanoseconds, int value, int* destination)
{
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while ((long long)(now - start) < nanoseconds);
    *destination = value;
}

// Grid: 1 block of 1 thread. Copies `*source` to `*destination`, after griddepcontrol.wait when `wait` is nonzero (the
// tests launch it without the wait only to see the early start).
TRITTER_KERNEL void launch_order_copy(const int* source, int* destination, int wait)
{
#if __CUDA_ARCH__ >= 900
    if (wait) asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
    *destination = *source;
}
