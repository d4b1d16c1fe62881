"""Does a weight prefetch into L2 speed up the batch-1 GEMV that follows it? (issue #8: a decode step that prefetched each
projection's weights on a second stream while the ops before it ran, commit 921184e, measured no gain, 2,502 against
2,517 us for the 7B step in one run, and was reverted; this probe asks why. Its answer, in
bench/results/nvidia-h100-80gb-hbm3/2026-12-06-session.md: the prefetches land, but warm L2 saves a GEMV 1.4-3.2 us.)

Usage (on the device): python3 l2_prefetch_probe.py DIR, DIR holding ternary_gemv.ptx and hold.ptx (the engine's
kernels/ptx) and l2_prefetch_probe.ptx (this folder's .cu for compute_80). Prints one line per case.

Each sample: a 256 MiB write that evicts L2, then per case, on one stream: nothing (cold), the GEMV itself (warm: the
weights read once already), l2_prefetch (prefetch.global.L2, as 921184e ran it) or ld_prefetch (real loads) of the
weights; a 20 us device-side hold so what was asked has landed (or none: the GEMV right behind the prefetch); then the
GEMV between two events. Median of 30 samples.
"""
import os
import statistics
import sys

import torch

import cuda_driver as cd
import ternary_gemv_sweep as sweep

HERE = sys.argv[1]
dev = torch.device("cuda")
SMS = torch.cuda.get_device_properties(0).multi_processor_count


def main():
    gemv = sweep.Gemv(os.path.join(HERE, "ternary_gemv.ptx"))
    probe = cd.load_module(os.path.join(HERE, "l2_prefetch_probe.ptx"))
    hold = cd.load_module(os.path.join(HERE, "hold.ptx"))
    l2 = cd.get_function(probe, "l2_prefetch")
    ld = cd.get_function(probe, "ld_prefetch")
    spin = sweep.Launch(cd.get_function(hold, "hold"), 1, 1, 0, [("long", 20000)])
    flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)
    sink = torch.zeros(1, dtype=torch.int32, device=dev)
    for (k, n) in sweep.SHAPES:
        wbytes = n * sweep.words_per_row(k) * 4
        packed = torch.randint(-2**31, 2**31 - 1, (wbytes // 4,), dtype=torch.int32, device=dev)
        x = torch.randn(1, k, device=dev)
        scale = torch.full((n,), 0.01, device=dev)
        y = torch.empty(1, n, device=dev)
        for int8 in (True, False):
            run = gemv.row1(int8, packed, n, k, x, scale, None, y)
            cases = {
                "cold": [],
                "warm": [run],
                "l2_prefetch": [sweep.Launch(l2, min(SMS, (wbytes + 8191) // 8192), 256, 0, [packed, ("long", wbytes)])],
                "ld_prefetch": [sweep.Launch(ld, 4 * SMS, 256, 0, [packed, ("long", wbytes // 16), sink])],
            }
            line = []
            for name, before in cases.items():
                for held in (True, False) if name.endswith("prefetch") else (True,):
                    samples = []
                    for _ in range(33):
                        flush.fill_(1)
                        for launch in before:
                            launch()
                        if held:
                            spin()
                        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        start.record()
                        run()
                        end.record()
                        end.synchronize()
                        samples.append(start.elapsed_time(end) * 1e3)
                    line.append(f"{name}{'' if held else ' (no hold)'} {statistics.median(samples[3:]):.2f}")
            print(f"{k}x{n} {'int8' if int8 else 'f32'} ({wbytes / 1e6:.1f} MB), GEMV us: " + ", ".join(line), flush=True)


if __name__ == "__main__":
    main()
