# Ternary GEMM sweep on the device (kernels/ternary_gemm.cu driven through the driver API with ctypes, PyTorch for the
# data): correctness of every tile against an exact reference (int32 sums through torch._int_mm, the epilogue in float32
# in the kernel's order), then TOP/s at 2048 tokens against bf16 F.linear and torch._int_mm in the same run.
# Usage, beside ternary_gemm.ptx (nvcc -ptx -arch=compute_80 -O3 -std=c++17 -Ikernels kernels/ternary_gemm.cu):
#   python3 ternary_gemm_sweep.py OUT.json
# Timings are CUDA events around a ctypes launch, so they include the host's launch latency (a few us, which also
# swamps the layout kernels' figures); the GEMM figures are within a few percent of the bench's.
import json, sys, torch, torch.nn.functional as F
torch.manual_seed(0)
from cuda_driver import launch
from cuda_driver import load_module as module
from cuda_driver import get_function as function
gm = module("ternary_gemm.ptx")
layout_fn = function(gm, "ternary_gemm_layout"); pad_fn = function(gm, "ternary_gemm_pad_rows")
variants = {}
for bn, threads in [(128,128),(112,128),(96,128),(80,128)]:
    name = f"128x{bn}"; shared = 4 * (128 * 128 + bn * 32)
    variants[name] = (function(gm, "ternary_gemm_" + name, shared), 128, bn, shared, threads)
layout_i8_fn = function(gm, "ternary_gemm_layout_i8")
def canonical(q):  # q int8 [N, K] in {-1,0,1} -> uint32 words [N, padded64 / 16] as int32 tensor
    N, K = q.shape; P = (K + 63) // 64 * 64
    c = torch.zeros(N, P, dtype=torch.int64, device="cuda"); c[:, :K] = torch.where(q == 1, 1, torch.where(q == -1, 2, 0))
    c = c.view(N, P // 16, 16) << (2 * torch.arange(16, device="cuda"))
    w = c.sum(-1)
    return torch.where(w >= 2**31, w - 2**32, w).to(torch.int32).contiguous()
def layout(q):
    N, K = q.shape; can = canonical(q); tiles = (K + 127) // 128
    out = torch.empty(N * tiles * 8, dtype=torch.int32, device="cuda")
    launch(layout_fn, (1024, 1), 256, 0, can, can.shape[1], N, tiles, out)
    out8 = torch.empty_like(out); launch(layout_i8_fn, (1024, 1), 256, 0, q, K, N, tiles, out8)
    assert torch.equal(out, out8), "int8 layout differs"
    return out
def gemm(v, x, rs, lay, sc, per_row, bias, out, M, K, N):
    f, bm, bn, shared, threads = variants[v]
    launch(f, ((N + bn - 1) // bn, (M + bm - 1) // bm), threads, shared, x, rs, lay, sc, per_row, bias, out, M, K, N)
def reference(x, q, rs, sc, bias):
    M, K = x.shape; N = q.shape[0]
    if M % 8 == 0 and K % 8 == 0 and N % 8 == 0 and M > 16:
        acc = torch._int_mm(x, q.t().contiguous())
    else:
        acc = (x.double() @ q.double().t()).round().to(torch.int32)
    rescale = sc.view(1, -1) * rs.view(-1, 1) if sc.numel() == N else sc.view(1, 1) * rs.view(-1, 1)
    y = acc.float() * rescale
    return y + bias.view(1, -1) if bias is not None else y
def bench(fn, iters=20, warm=3):
    for _ in range(warm): fn()
    torch.cuda.synchronize(); ts = []
    for _ in range(iters):
        a = torch.cuda.Event(enable_timing=True); b = torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b))
    ts.sort(); return ts[len(ts) // 2] / 1e3
res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "correct": [], "perf": []}
# correctness on odd shapes
for (M, K, N, per_row, with_bias) in [(77, 336, 45, True, True), (130, 200, 261, False, True), (1, 64, 8, True, False), (300, 1000, 520, True, True)]:
    x = torch.randint(-127, 128, (M, K), dtype=torch.int8, device="cuda"); q = torch.randint(-1, 2, (N, K), dtype=torch.int8, device="cuda")
    rs = torch.rand(M, device="cuda") / 127; sc = torch.rand(N if per_row else 1, device="cuda"); bias = torch.randn(N, device="cuda") if with_bias else None
    lay = layout(q); ref = reference(x, q, rs, sc, bias)
    xin, Kin = x, K
    if K % 16:
        Kp = (K + 15) // 16 * 16; xin = torch.empty(M, Kp, dtype=torch.int8, device="cuda")
        launch(pad_fn, (256, 1), 256, 0, x, M, K, Kp, xin); Kin = Kp
    for v in variants:
        out = torch.full((M, N), float("nan"), device="cuda")
        gemm(v, xin, rs, lay, sc, 1 if per_row else 0, bias, out, M, Kin, N); torch.cuda.synchronize()
        res["correct"].append({"M": M, "K": K, "N": N, "variant": v, "bit_exact": bool(torch.equal(out, ref)), "max_abs": float((out - ref).abs().max())})
bad = [c for c in res["correct"] if not c["bit_exact"]]
print("correctness:", len(res["correct"]) - len(bad), "/", len(res["correct"]), "bit-exact", bad[:5], flush=True)
# performance, M = 2048
M = 2048
for K, N in [(2560, 6912), (6912, 2560), (4096, 4096), (4096, 11008), (11008, 4096)]:
    ops = 2 * M * K * N; r = {"K": K, "N": N}
    W = torch.randn(N, K, dtype=torch.bfloat16, device="cuda"); A = torch.randn(M, K, dtype=torch.bfloat16, device="cuda")
    r["bf16_TFLOPs"] = ops / bench(lambda: F.linear(A, W)) / 1e12; del W, A
    sets = []
    for _ in range(3):
        x = torch.randint(-127, 128, (M, K), dtype=torch.int8, device="cuda"); q = torch.randint(-1, 2, (N, K), dtype=torch.int8, device="cuda")
        sets.append((x, q, layout(q), torch.rand(M, device="cuda") / 127, torch.rand(N, device="cuda"), torch.randn(N, device="cuda")))
    out = torch.empty(M, N, device="cuda"); i = [0]
    x, q, lay, rs, sc, bias = sets[0]
    ref = reference(x, q, rs, sc, bias)
    def rot(v):
        def f():
            s = sets[i[0] % 3]; i[0] += 1; gemm(v, s[0], s[3], s[2], s[4], 1, s[5], out, M, K, N)
        return f
    for v in variants:
        gemm(v, x, rs, lay, sc, 1, bias, out, M, K, N); torch.cuda.synchronize()
        exact = bool(torch.equal(out, ref))
        r[v] = round(ops / bench(rot(v)) / 1e12, 1); r[v + "_exact"] = exact
    can = canonical(q); tiles = (K + 127) // 128; lay2 = torch.empty(N * tiles * 8, dtype=torch.int32, device="cuda")
    r["layout_us"] = bench(lambda: launch(layout_fn, (132 * 8, 1), 256, 0, can, can.shape[1], N, tiles, lay2)) * 1e6
    r["layout_i8_us"] = bench(lambda: launch(layout_i8_fn, (132 * 8, 1), 256, 0, q, K, N, tiles, lay2)) * 1e6
    r["torch_int_mm_TOPs"] = ops / bench(lambda: torch._int_mm(x, q.t())) / 1e12
    res["perf"].append(r); print(json.dumps(r), flush=True)
    del sets, x, q, lay, ref
json.dump(res, open(sys.argv[1] if len(sys.argv) > 1 else "sweep.json", "w"), indent=1)
