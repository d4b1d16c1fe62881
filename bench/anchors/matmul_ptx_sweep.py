"""Tuning sweep for kernels/matmul.cu: drives PTX builds of it (tile depth, stages and warp tile set with -DMM_BK,
-DMM_STAGES, -DMM_WARP_M, -DMM_WARP_N) through the driver API (ctypes) on torch tensors, checks each against float64 on
odd shapes and times the three products next to cuBLAS (TF32 and FP32), all in one process.

Build:  nvcc -ptx -arch=compute_80 -O3 -std=c++17 -Ikernels -DMM_BK=16 -DMM_STAGES=4 -o v.ptx kernels/matmul.cu
Usage:  python3 matmul_ptx_sweep.py v.ptx:BK:WARP_M:WARP_N:STAGES ...
"""
import sys
import torch

from cuda_driver import get_function, launch, load_module, timed_ms
SHAPES = [(4096, 2048, 2048), (4096, 2048, 5632), (4096, 5632, 2048), (4096, 4096, 11008)]
ODD = [(7, 63, 65), (300, 1000, 63), (1025, 300, 172), (16, 512, 172), (130, 1031, 1000)]


class Variant:
    def __init__(self, spec):
        path, bk, warp_m, warp_n, stages = spec.split(":")
        self.name, self.bk, self.stages = path, int(bk), int(stages)
        self.threads = 32 * (128 // int(warp_m)) * (128 // int(warp_n))
        module = load_module(path)
        self.fns = {}
        for name, ak, bk_ in (("matmul_forward_f32", True, True), ("matmul_input_gradient_f32", True, False), ("matmul_weight_gradient_f32", False, False)):
            floats = lambda kc: 128 * (self.bk + 8) if kc else self.bk * (128 + (4 if ak else 8))
            smem = self.stages * (floats(ak) + floats(bk_)) * 4
            self.fns[name] = (get_function(module, name, smem), smem)

    def launch(self, name, m, n, *args):
        f, smem = self.fns[name]
        launch(f, ((n + 127) // 128, (m + 127) // 128), self.threads, smem, *args)

    def forward(self, x, w, b, y):
        self.launch("matmul_forward_f32", x.shape[0], w.shape[0], x, w, b, y, x.shape[0], x.shape[1], w.shape[0])

    def dx(self, dy, w, dx):
        self.launch("matmul_input_gradient_f32", dy.shape[0], w.shape[1], dy, w, dx, dy.shape[0], w.shape[1], w.shape[0])

    def dw(self, dy, x, dw):
        self.launch("matmul_weight_gradient_f32", dw.shape[0], dw.shape[1], dy, x, dw, dy.shape[0], x.shape[1], dy.shape[1])


def rand(*shape):
    return torch.rand(*shape, device="cuda") * 2 - 1


def errors(v, rows, inf, outf):
    x, w, b, dy, dw0 = rand(rows, inf), rand(outf, inf), rand(outf), rand(rows, outf), rand(outf, inf)
    y, dx, dw = torch.empty(rows, outf, device="cuda"), torch.empty(rows, inf, device="cuda"), dw0.clone()
    v.forward(x, w, b, y); v.dx(dy, w, dx); v.dw(dy, x, dw); torch.cuda.synchronize()
    X, W, B, DY = x.double(), w.double(), b.double(), dy.double()
    out = []
    for got, exact, absum in ((y, X @ W.T + B, X.abs() @ W.abs().T + B.abs()), (dx, DY @ W, DY.abs() @ W.abs()),
                              (dw, dw0.double() + DY.T @ X, DY.abs().T @ X.abs() + dw0.double().abs())):
        out.append(((got.double() - exact).abs() / absum).max().item())
    return out


def main():
    variants = [Variant(s) for s in sys.argv[1:]]
    print(f"device {torch.cuda.get_device_name()}")
    for v in variants:
        worst = max(max(errors(v, *s)) for s in ODD + [SHAPES[0]])
        print(f"{v.name}: max error / sum|a||b| over odd shapes = {worst:.2e}")
    print("| shape | product | " + " | ".join(v.name for v in variants) + " | cuBLAS TF32 | cuBLAS FP32 |")
    for rows, inf, outf in SHAPES:
        x, w, b, dy = rand(rows, inf), rand(outf, inf), rand(outf), rand(rows, outf)
        y, dx, dw = torch.empty(rows, outf, device="cuda"), torch.empty(rows, inf, device="cuda"), torch.zeros(outf, inf, device="cuda")
        flops = 2.0 * rows * inf * outf
        for prod, ours, ref in (("fwd", lambda v: lambda: v.forward(x, w, b, y), lambda: torch.addmm(b, x, w.t())),
                                ("dX", lambda v: lambda: v.dx(dy, w, dx), lambda: torch.matmul(dy, w)),
                                ("dW", lambda v: lambda: v.dw(dy, x, dw), lambda: dw.addmm_(dy.t(), x))):
            cells = [flops / timed_ms(ours(v), repeats=5) / 1e9 for v in variants]
            torch.backends.cuda.matmul.allow_tf32 = True
            tf32 = flops / timed_ms(ref, repeats=5) / 1e9
            torch.backends.cuda.matmul.allow_tf32 = False
            fp32 = flops / timed_ms(ref, repeats=5) / 1e9
            print(f"| {rows}x{inf}x{outf} | {prod} | " + " | ".join(f"{c:.0f}" for c in cells) + f" | {tf32:.0f} | {fp32:.0f} |", flush=True)


main()
