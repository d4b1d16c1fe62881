"""Sweep of the wgmma forward kernel (kernels/matmul_bf16_sm90a.cu) of the forward product Y = X W^T + b against
main's mma.sync kernel (kernels/matmul_bf16.cu, compute_80 PTX) and PyTorch's bf16 F.linear (cuBLAS), in one process:
each is checked against float64 of the same bf16 operands, then timed with CUDA events.

DIR is what bench/anchors/build_wgmma_sweep.sh DIR leaves: this script, cuda_driver.py, matmul_bf16.ptx and one
matmul_bf16_wgmma_bmBM_bnBN_sS.ptx per variant (block tile BM x BN x 64, S stages), retargeted to sm_90a.

Each wgmma variant is first tried in a child process (--probe): it loads the module with the driver JIT's logs (the
error log on failure; registers and spills always), runs ptxas -v on it where Triton ships a ptxas that knows sm_90a,
and checks it on ragged shapes and the sweep's. A variant that fails to load, faults, hangs or is wrong there is reported and left out
of the sweep, so that the baseline and the other variants are still measured.

Operands are bf16 already (rows padded with zeros to a multiple of 8), so the figures are the GEMM kernels alone;
ours write float32, PyTorch's bf16. A second table times the two backward products of the default tile (128 x 256,
4 stages, the one the engine runs) against matmul_bf16.cu's and PyTorch's on the same shapes: the input gradient
dX = dY W (W MN-major) and the overwriting weight gradient dW = dY^T X (both operands MN-major).

Usage (on the device): python3 matmul_wgmma_sweep.py DIR    (writes sweep.txt and sweep.json to $OUT, else DIR)
"""
import glob
import json
import os
import re
import subprocess
import sys

# Before the driver starts (cuda_driver): a cached JIT would leave the info log empty.
os.environ["CUDA_CACHE_DISABLE"] = "1"

import torch  # noqa: E402

from cuda_driver import get_function, load_module, prepared, timed_ms  # noqa: E402

# (M, N, K) = (tokens, out, in).
SHAPES = [(2048, 2048, 2048), (2048, 8192, 2048), (2048, 2048, 8192), (4096, 4096, 4096), (2048, 5632, 2048),
          (2048, 2048, 5632)]
ODD = [(7, 65, 63), (300, 63, 1000), (1025, 172, 300), (16, 172, 512), (130, 1000, 1031), (257, 520, 72), (200, 300, 8200)]
# Worst |ours - exact| / sum |x| |w| (+ |b|) accepted. fp32 accumulation of exact bf16 products errs by at most
# ~K 2^-24 of that sum (~5e-4 at K = 8192) and in practice far less; a lost k16 step at K = 8192 costs 2e-3, a
# misplaced fragment O(1).
BOUND = 1e-3
PROBE_SECONDS = 300


def padded(columns):
    return (columns + 7) // 8 * 8


class Kernel:
    """A forward kernel of the (input, weight, bias, output, rows, in, out, ld) convention, BM x BN block tiles."""

    def __init__(self, name, module, function, bm, bn, threads, shared):
        self.name, self.bm, self.bn, self.threads, self.shared = name, bm, bn, threads, shared
        self.function = get_function(module, function, shared)

    def prepare(self, x, w, b, y, m, n, k):
        grid = ((n + self.bn - 1) // self.bn, (m + self.bm - 1) // self.bm)
        return prepared(self.function, grid, self.threads, self.shared, x, w, b, y, m, k, n, padded(k))


def baseline(directory):
    """matmul_bf16.cu's defaults: 128 x 128 x 64, 3 stages, 4 warps of 64 x 64."""
    module = load_module(os.path.join(directory, "matmul_bf16.ptx"))
    return Kernel("mma.sync 128x128 s3", module, "matmul_forward_bf16", 128, 128, 128, 3 * (128 + 128) * 64 * 2)


def wgmma_variant(path, logs=None):
    bm, bn, stages = map(int, re.search(r"_bm(\d+)_bn(\d+)_s(\d+)\.ptx$", path).groups())
    module = load_module(path, logs)
    return Kernel(f"wgmma {bm}x{bn} s{stages}", module, "matmul_forward_bf16_wgmma", bm, bn, bm // 64 * 128,
                  stages * (bm + bn) * 128 + 1024)


def bf16_padded(t):
    out = torch.zeros(t.shape[0], padded(t.shape[1]), device="cuda", dtype=torch.bfloat16)
    out[:, :t.shape[1]] = t.to(torch.bfloat16)
    return out


def operands(m, n, k):
    x, w = torch.rand(m, k, device="cuda") * 2 - 1, torch.rand(n, k, device="cuda") * 2 - 1
    return dict(xs=bf16_padded(x), ws=bf16_padded(w), b=torch.rand(n, device="cuda") * 2 - 1,
                y=torch.full((m, n), float("nan"), device="cuda"))


def error(kernel, m, n, k):
    """Worst |ours - exact| / (sum |x||w| + |b|), exact in float64 from the same bf16 operands."""
    o = operands(m, n, k)
    kernel.prepare(o["xs"], o["ws"], o["b"], o["y"], m, n, k)()
    torch.cuda.synchronize()
    x, w, b = o["xs"][:, :k].double(), o["ws"][:, :k].double(), o["b"].double()
    exact, scale = x @ w.T + b, x.abs() @ w.abs().T + b.abs()
    return ((o["y"].double() - exact).abs() / scale).nan_to_num(float("inf")).max().item()


def triton_ptxas():
    """The ptxas Triton ships (new layout, then old), which knows sm_90a; None without Triton."""
    try:
        import triton
    except ImportError:
        return None
    for parts in (("backends", "nvidia", "bin", "ptxas"), ("third_party", "cuda", "bin", "ptxas")):
        path = os.path.join(os.path.dirname(triton.__file__), *parts)
        if os.access(path, os.X_OK):
            return path
    return None


def probe(path):
    """Child process: load with logs, report, check on ragged shapes and the sweep's; exit 0 if within BOUND."""
    ptxas = triton_ptxas()
    if ptxas:
        run = subprocess.run([ptxas, "-v", "-arch=sm_90a", "-o", os.devnull, path], capture_output=True, text=True)
        print(f"  {os.path.basename(ptxas)} -v (Triton's): exit {run.returncode}\n" + (run.stdout + run.stderr).strip())
    logs = {}
    try:
        kernel = wgmma_variant(path, logs)
    finally:
        for key in ("info", "error"):
            if logs.get(key):
                print(f"  JIT {key} log:\n{logs[key].strip()}")
    worst = 0.0
    for m, n, k in ODD + SHAPES:
        e = error(kernel, m, n, k)
        worst = max(worst, e)
        print(f"  {m}x{n}x{k}: error {e:.2e}", flush=True)
    print(f"  worst {worst:.2e} (bound {BOUND:.0e})")
    sys.exit(0 if worst <= BOUND else 1)


def probed(paths, say):
    passed = []
    for path in paths:
        say(f"probe {os.path.basename(path)}")
        try:
            run = subprocess.run([sys.executable, os.path.abspath(__file__), "--probe", path], capture_output=True, text=True,
                                 timeout=PROBE_SECONDS)
            say((run.stdout + run.stderr).rstrip())
            ok = run.returncode == 0
        except subprocess.TimeoutExpired as e:
            say(e.stdout.decode(errors="replace").rstrip() if e.stdout else "")
            say(f"  timed out after {PROBE_SECONDS} s (a hang?)")
            ok = False
        say(f"  -> {'kept' if ok else 'LEFT OUT'}")
        if ok:
            passed.append(path)
    return passed


def backward(directory, engine_path, say, results):
    """dX and dW of each sweep shape (M tokens, N out, K in): matmul_bf16.cu's kernels, the wgmma twins, PyTorch."""
    mma, wg = load_module(os.path.join(directory, "matmul_bf16.ptx")), load_module(engine_path)
    mma_shared, wg_shared = 3 * (128 + 128) * 64 * 2, 4 * (128 + 256) * 128 + 1024
    kernels = {
        "dX": [("mma.sync", get_function(mma, "matmul_input_gradient_bf16", mma_shared), 128, 128, 128, mma_shared),
               ("wgmma", get_function(wg, "matmul_input_gradient_bf16_wgmma", wg_shared), 128, 256, 256, wg_shared)],
        "dW": [("mma.sync", get_function(mma, "matmul_weight_gradient_set_bf16", mma_shared), 128, 128, 128, mma_shared),
               ("wgmma", get_function(wg, "matmul_weight_gradient_set_bf16_wgmma", wg_shared), 128, 256, 256, wg_shared)],
    }
    say("")
    say("Backward products, TFLOP/s (error as above, against float64 of the same bf16 operands)")
    say("| product | M x N x K | mma.sync | wgmma | PyTorch bf16 | wgmma / mma.sync | wgmma / PyTorch | wgmma error |")
    say("|---|---|---|---|---|---|---|---|")
    for m, n, k in SHAPES:
        dy = bf16_padded(torch.rand(m, n, device="cuda") * 2 - 1)
        x, w = bf16_padded(torch.rand(m, k, device="cuda") * 2 - 1), bf16_padded(torch.rand(n, k, device="cuda") * 2 - 1)
        exact = {"dX": dy[:, :n].double() @ w[:, :k].double(), "dW": dy[:, :n].double().T @ x[:, :k].double()}
        scale = {"dX": dy[:, :n].double().abs() @ w[:, :k].double().abs(), "dW": dy[:, :n].double().abs().T @ x[:, :k].double().abs()}
        peers = {"dX": lambda: dy[:, :n] @ w[:, :k], "dW": lambda: dy[:, :n].T @ x[:, :k]}
        for product, (rows, columns) in (("dX", (m, k)), ("dW", (n, k))):
            rates, errors = {}, {}
            for name, function, bm, bn, threads, shared in kernels[product]:
                out = torch.full((rows, columns), float("nan"), device="cuda")
                call = prepared(function, ((columns + bn - 1) // bn, (rows + bm - 1) // bm), threads, shared,
                                dy, w if product == "dX" else x, out, m, k, n, padded(n), padded(k))
                call()
                torch.cuda.synchronize()
                errors[name] = ((out.double() - exact[product]).abs() / scale[product]).nan_to_num(float("inf")).max().item()
                rates[name] = 2.0 * m * n * k / timed_ms(call, launches=50, repeats=9) / 1e9
            peer = 2.0 * m * n * k / timed_ms(peers[product], launches=50, repeats=9) / 1e9
            cells = [f"{rates[name]:.0f}" + ("" if errors[name] <= BOUND else f" (WRONG {errors[name]:.1e})") for name in ("mma.sync", "wgmma")]
            say(f"| {product} | {m}x{n}x{k} | " + " | ".join(cells) + f" | {peer:.0f} | {rates['wgmma'] / rates['mma.sync']:.2f} | "
                f"{rates['wgmma'] / peer:.2f} | {errors['wgmma']:.1e} |")
            results.append(dict(product=product, shape=[m, n, k], tflops=rates, error=errors, torch_bf16=peer))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        probe(sys.argv[2])
    directory = sys.argv[1]
    out = os.environ.get("OUT", directory)
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say(f"device {torch.cuda.get_device_name()}, torch {torch.__version__}")
    paths = sorted(glob.glob(os.path.join(directory, "matmul_bf16_wgmma_bm*_bn*_s*.ptx")))
    probed_paths = probed(paths, say)
    kernels = [baseline(directory)] + [wgmma_variant(p) for p in probed_paths]
    for kernel in kernels:
        say(f"{kernel.name}: {kernel.threads} threads, {kernel.shared} bytes of shared memory")

    results = []
    say("TFLOP/s, bf16 operands (ours float32 out, PyTorch bf16 out); error = worst |ours - exact| / sum |x||w| + |b|")
    say("| M x N x K | " + " | ".join(kernel.name for kernel in kernels) + " | PyTorch bf16 | best / PyTorch | best error |")
    say("|---" * (len(kernels) + 4) + "|")
    for m, n, k in SHAPES:
        errors = {kernel.name: error(kernel, m, n, k) for kernel in kernels}
        o = operands(m, n, k)
        x, w, bb = o["xs"][:, :k], o["ws"][:, :k], o["b"].to(torch.bfloat16)
        flops = 2.0 * m * n * k
        rates = {kernel.name: flops / timed_ms(kernel.prepare(o["xs"], o["ws"], o["b"], o["y"], m, n, k), launches=50, repeats=9) / 1e9
                 for kernel in kernels}
        peer = flops / timed_ms(lambda: torch.nn.functional.linear(x, w, bb), launches=50, repeats=9) / 1e9
        valid = {name: rate for name, rate in rates.items() if errors[name] <= BOUND}
        best = max(valid, key=valid.get) if valid else None
        cells = [f"{rates[kernel.name]:.0f}" + ("" if errors[kernel.name] <= BOUND else f" (WRONG {errors[kernel.name]:.1e})") for kernel in kernels]
        say(f"| {m}x{n}x{k} | " + " | ".join(cells) + f" | {peer:.0f} | "
            + (f"{valid[best] / peer:.2f} ({best}) | {errors[best]:.1e} |" if best else "- | - |"))
        results.append(dict(shape=[m, n, k], tflops=rates, error=errors, torch_bf16=peer))

    engine = [p for p in probed_paths if p.endswith("_bm128_bn256_s4.ptx")]
    if engine:
        backward(directory, engine[0], say, results)

    with open(os.path.join(out, "sweep.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "sweep.json"), "w") as f:
        json.dump(dict(device=torch.cuda.get_device_name(), bound=BOUND, results=results), f, indent=1)


main()
