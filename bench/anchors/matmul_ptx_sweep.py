"""Tuning sweep for kernels/matmul.cu: drives PTX builds of it (tile depth, stages and warp tile set with -DMM_BK,
-DMM_STAGES, -DMM_WARP_M, -DMM_WARP_N) through the driver API (ctypes) on torch tensors, checks each against float64 on
odd shapes and times the three products next to cuBLAS (TF32 and FP32), all in one process.

Build:  nvcc -ptx -arch=compute_80 -O3 -std=c++17 -Ikernels -DMM_BK=16 -DMM_STAGES=4 -o v.ptx kernels/matmul.cu
Usage:  python3 matmul_ptx_sweep.py v.ptx:BK:WARP_M:WARP_N:STAGES ...
"""
import ctypes, statistics, sys
import torch

cuda = ctypes.CDLL("libcuda.so.1")
torch.cuda.init(); torch.zeros(1, device="cuda")
SHAPES = [(4096, 2048, 2048), (4096, 2048, 5632), (4096, 5632, 2048), (4096, 4096, 11008)]
ODD = [(7, 63, 65), (300, 1000, 63), (1025, 300, 172), (16, 512, 172), (130, 1031, 1000)]


def check(r):
    if r != 0:
        raise RuntimeError(f"CUDA driver error {r}")


class Variant:
    def __init__(self, spec):
        path, bk, warp_m, warp_n, stages = spec.split(":")
        self.name, self.bk, self.stages = path, int(bk), int(stages)
        self.threads = 32 * (128 // int(warp_m)) * (128 // int(warp_n))
        mod = ctypes.c_void_p()
        check(cuda.cuModuleLoadData(ctypes.byref(mod), open(path, "rb").read() + b"\0"))
        self.fns = {}
        for name, ak, bk_ in (("matmul_forward_f32", True, True), ("matmul_input_gradient_f32", True, False), ("matmul_weight_gradient_f32", False, False)):
            f = ctypes.c_void_p()
            check(cuda.cuModuleGetFunction(ctypes.byref(f), mod, name.encode()))
            floats = lambda kc: 128 * (self.bk + 8) if kc else self.bk * (128 + (4 if ak else 8))
            smem = self.stages * (floats(ak) + floats(bk_)) * 4
            check(cuda.cuFuncSetAttribute(f, 8, smem))
            self.fns[name] = (f, smem)

    def launch(self, name, m, n, *args):
        f, smem = self.fns[name]
        vals = [ctypes.c_void_p(a.data_ptr() if a is not None else 0) if not isinstance(a, int) else ctypes.c_int(a) for a in args]
        params = (ctypes.c_void_p * len(vals))(*[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in vals])
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        check(cuda.cuLaunchKernel(f, (n + 127) // 128, (m + 127) // 128, 1, self.threads, 1, 1, smem, stream, params, None))

    def forward(self, x, w, b, y):
        self.launch("matmul_forward_f32", x.shape[0], w.shape[0], x, w, b, y, x.shape[0], x.shape[1], w.shape[0])

    def dx(self, dy, w, dx):
        self.launch("matmul_input_gradient_f32", dy.shape[0], w.shape[1], dy, w, dx, dy.shape[0], w.shape[1], w.shape[0])

    def dw(self, dy, x, dw):
        self.launch("matmul_weight_gradient_f32", dw.shape[0], dw.shape[1], dy, x, dw, dy.shape[0], x.shape[1], dy.shape[1])


def timed_ms(fn, launches=20, repeats=5):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    s = []
    for _ in range(repeats):
        a, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(launches):
            fn()
        e.record(); e.synchronize()
        s.append(a.elapsed_time(e) / launches)
    return statistics.median(s)


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
            cells = [flops / timed_ms(ours(v)) / 1e9 for v in variants]
            torch.backends.cuda.matmul.allow_tf32 = True
            tf32 = flops / timed_ms(ref) / 1e9
            torch.backends.cuda.matmul.allow_tf32 = False
            fp32 = flops / timed_ms(ref) / 1e9
            print(f"| {rows}x{inf}x{outf} | {prod} | " + " | ".join(f"{c:.0f}" for c in cells) + f" | {tf32:.0f} | {fp32:.0f} |", flush=True)


main()
