"""cuBLAS anchor for Tritter's dense matmul: the three products of a linear layer through torch.matmul, TF32 allowed.

Shapes are tokens x in x out, as in bench/Tritter.Bench/Gpu/DenseMatmulGpuBenchmarks.cs. Each product is timed with
CUDA events over back-to-back launches after a warm-up; the median of the repeats is reported. Prints a markdown table
and, with --json PATH, writes the figures.

Usage: python3 dense_matmul_cublas.py [--json out.json]
"""
import argparse
import json

import torch

from cuda_driver import timed_ms

SHAPES = [(4096, 2048, 2048), (4096, 2048, 5632), (4096, 5632, 2048), (4096, 4096, 11008)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    rows_out = []
    for tf32 in (True, False):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for rows, inf, outf in SHAPES:
            x = torch.rand(rows, inf, device="cuda") * 2 - 1
            w = torch.rand(outf, inf, device="cuda") * 2 - 1
            b = torch.rand(outf, device="cuda") * 2 - 1
            dy = torch.rand(rows, outf, device="cuda") * 2 - 1
            dw = torch.zeros(outf, inf, device="cuda")
            flops = 2.0 * rows * inf * outf
            cases = {
                "forward (x W^T + b)": lambda: torch.addmm(b, x, w.t()),
                "dX (dY W)": lambda: torch.matmul(dy, w),
                "dW += dY^T X": lambda: dw.addmm_(dy.t(), x),
            }
            for name, fn in cases.items():
                ms = timed_ms(fn)
                rows_out.append({"tf32": tf32, "shape": f"{rows}x{inf}x{outf}", "product": name, "ms": ms,
                                 "tflops": flops / (ms * 1e-3) / 1e12})
            del x, w, b, dy, dw
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    print("| math | shape (tokens x in x out) | product | ms | TFLOP/s |")
    print("|---|---|---|---|---|")
    for r in rows_out:
        print(f"| {'TF32' if r['tf32'] else 'FP32'} | {r['shape']} | {r['product']} | {r['ms']:.3f} | {r['tflops']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "results": rows_out}, f, indent=1)


if __name__ == "__main__":
    main()
