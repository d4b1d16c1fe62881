// A device-side hold for the bench suites' single-call timings (bench/Tritter.Bench/Gpu/GpuBenchmark.cs). No CPU twin:
// it computes nothing.
//
// A call timed between two CUDA events otherwise includes the host's launch latency: the start event completes at
// once, and the GPU idles until the host has queued the work behind it (~7 us measured with a trivial kernel on an
// H100). One thread spinning on the global timer in front of the start event keeps the stream busy while the host
// queues the event, the work and the end event, so the events bracket device time only.
#include "common.cuh"

// Grid: 1 block of 1 thread. Returns after at least `nanoseconds` of the device's global timer.
TRITTER_KERNEL void hold(long long nanoseconds)
{
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while ((long long)(now - start) < nanoseconds);
}
