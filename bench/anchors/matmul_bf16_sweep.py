"""Tuning sweep for kernels/matmul_bf16.cu: drives PTX builds of it (block tile, depth and stages set with -DMB_BM,
-DMB_BN, -DMB_BK, -DMB_STAGES, -DMB_GROUP_M) through the driver API (ctypes) on torch tensors, checks each against
float64 on odd shapes and times the three products next to PyTorch's bf16 products (cuBLAS) in one process.

The operands are bf16 already (rows padded with zeros to a multiple of 8, as matmul_to_bf16 leaves them), so the
figures are the GEMM kernels alone; the peers produce bf16 outputs where ours write float32.

Build:  nvcc -ptx -arch=compute_80 -O3 -std=c++17 -Ikernels -DMB_BN=256 -o v.ptx kernels/matmul_bf16.cu
Usage:  python3 matmul_bf16_sweep.py [--json out.json] v.ptx:BM:BN:BK:STAGES ...
        python3 matmul_bf16_sweep.py --profile v.ptx:BM:BN:BK:STAGES   (each product of the 2048x2048x5632 shape
        three times, checks skipped: for ncu)
"""
import argparse
import json

import torch

from cuda_driver import get_function, launch, load_module, timed_ms

# Tokens x in x out: the dense suite's shapes (bench/Tritter.Bench/Gpu/DenseMatmulGpuBenchmarks.cs), the 1B preset's
# at 2,048 tokens and the 2B4T / 7B shapes of issue 6's forward goal.
SHAPES = [(4096, 2048, 2048), (4096, 2048, 5632), (4096, 5632, 2048), (4096, 4096, 11008),
          (2048, 2048, 2048), (2048, 2048, 5632), (2048, 5632, 2048),
          (2048, 2560, 6912), (2048, 6912, 2560), (2048, 4096, 4096), (2048, 4096, 11008), (2048, 11008, 4096)]
ODD = [(7, 63, 65), (300, 1000, 63), (1025, 300, 172), (16, 512, 172), (130, 1031, 1000), (257, 72, 520)]


def padded(columns):
    return (columns + 7) // 8 * 8


class Variant:
    def __init__(self, spec):
        path, bm, bn, bk, stages = spec.split(":")
        self.name, self.bm, self.bn = path, int(bm), int(bn)
        self.threads = 32 * (self.bm // 64) * (self.bn // 64)
        self.shared = int(stages) * (self.bm + self.bn) * int(bk) * 2
        module = load_module(path)
        self.fns = {name: get_function(module, name, self.shared)
                    for name in ("matmul_forward_bf16", "matmul_input_gradient_bf16", "matmul_weight_gradient_bf16")}

    def launch(self, name, m, n, *args):
        launch(self.fns[name], ((n + self.bn - 1) // self.bn, (m + self.bm - 1) // self.bm), self.threads, self.shared, *args)

    def forward(self, x, w, b, y, rows, inf, outf):
        self.launch("matmul_forward_bf16", rows, outf, x, w, b, y, rows, inf, outf, padded(inf))

    def dx(self, dy, w, dx, rows, inf, outf):
        self.launch("matmul_input_gradient_bf16", rows, inf, dy, w, dx, rows, inf, outf, padded(outf), padded(inf))

    def dw(self, dy, x, dw, rows, inf, outf):
        self.launch("matmul_weight_gradient_bf16", outf, inf, dy, x, dw, rows, inf, outf, padded(outf), padded(inf))


def rand(*shape):
    return torch.rand(*shape, device="cuda") * 2 - 1


def bf16_padded(t):
    """The bf16 copy the kernels read: rows padded with zeros to a multiple of 8 elements."""
    out = torch.zeros(t.shape[0], padded(t.shape[1]), device="cuda", dtype=torch.bfloat16)
    out[:, :t.shape[1]] = t.to(torch.bfloat16)
    return out


def errors(v, rows, inf, outf):
    """Worst |ours - exact| / sum|a||b| of the three products, exact in float64 from the same bf16 operands."""
    x, w, b, dy, dw0 = rand(rows, inf), rand(outf, inf), rand(outf), rand(rows, outf), rand(outf, inf)
    xs, ws, dys = bf16_padded(x), bf16_padded(w), bf16_padded(dy)
    y, dx, dw = torch.empty(rows, outf, device="cuda"), torch.empty(rows, inf, device="cuda"), dw0.clone()
    v.forward(xs, ws, b, y, rows, inf, outf)
    v.dx(dys, ws, dx, rows, inf, outf)
    v.dw(dys, xs, dw, rows, inf, outf)
    torch.cuda.synchronize()
    X, W, DY, B = xs[:, :inf].double(), ws[:, :inf].double(), dys[:, :outf].double(), b.double()
    out = []
    for got, exact, absum in ((y, X @ W.T + B, X.abs() @ W.abs().T + B.abs()), (dx, DY @ W, DY.abs() @ W.abs()),
                              (dw, dw0.double() + DY.T @ X, DY.abs().T @ X.abs() + dw0.double().abs())):
        out.append(((got.double() - exact).abs() / absum).max().item())
    return out


def operands(rows, inf, outf):
    x, w, b, dy = rand(rows, inf), rand(outf, inf), rand(outf), rand(rows, outf)
    return dict(xs=bf16_padded(x), ws=bf16_padded(w), b=b, dys=bf16_padded(dy),
                y=torch.empty(rows, outf, device="cuda"), dx=torch.empty(rows, inf, device="cuda"),
                dw=torch.zeros(outf, inf, device="cuda"))


def products(v, o, rows, inf, outf):
    return (("fwd", lambda: v.forward(o["xs"], o["ws"], o["b"], o["y"], rows, inf, outf)),
            ("dX", lambda: v.dx(o["dys"], o["ws"], o["dx"], rows, inf, outf)),
            ("dW", lambda: v.dw(o["dys"], o["xs"], o["dw"], rows, inf, outf)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    variants = [Variant(s) for s in args.variants]
    if args.profile:
        shape = (2048, 2048, 5632)
        o = operands(*shape)
        for v in variants:
            for _, fn in products(v, o, *shape):
                for _ in range(3):
                    fn()
        torch.cuda.synchronize()
        return
    print(f"device {torch.cuda.get_device_name()}")
    for v in variants:
        worst = max(max(errors(v, *s)) for s in ODD + [SHAPES[0]])
        print(f"{v.name}: max error / sum|a||b| over odd shapes = {worst:.2e}", flush=True)
    print("TFLOP/s, bf16 operands (ours float32 out, PyTorch bf16 out)")
    print("| shape | product | " + " | ".join(v.name for v in variants) + " | PyTorch bf16 |")
    results = []
    for rows, inf, outf in SHAPES:
        o = operands(rows, inf, outf)
        x, w, dy = o["xs"][:, :inf], o["ws"][:, :inf], o["dys"][:, :outf]
        bb = o["b"].to(torch.bfloat16)
        peers = {"fwd": lambda: torch.nn.functional.linear(x, w, bb), "dX": lambda: torch.matmul(dy, w),
                 "dW": lambda: torch.matmul(dy.t(), x)}
        flops = 2.0 * rows * inf * outf
        for (prod, _), *fns in zip(products(variants[0], o, rows, inf, outf), *[products(v, o, rows, inf, outf) for v in variants]):
            cells = [flops / timed_ms(fn, repeats=5) / 1e9 for _, fn in fns]
            peer = flops / timed_ms(peers[prod], repeats=5) / 1e9
            results.append(dict(shape=[rows, inf, outf], product=prod, ours={v.name: c for v, c in zip(variants, cells)}, torch_bf16=peer))
            print(f"| {rows}x{inf}x{outf} | {prod} | " + " | ".join(f"{c:.0f}" for c in cells) + f" | {peer:.0f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(), results=results), f, indent=1)


main()
