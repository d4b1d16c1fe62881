"""Ternary GEMV sweep (issue #8): where the fixed per-launch time of the batch-1 GEMV goes, and what the batch kernels
cost, as graph-replayed back-to-back launches over weight sets larger than L2, against the copy bandwidth of the same
run and PyTorch bf16 F.linear.

Usage (on the device): python3 ternary_gemv_sweep.py DIR, DIR holding
  tg80.ptx    kernels/ternary_gemv.cu for compute_80, as the engine embeds it (JIT-compiled by the driver);
  tg90.cubin  the same for sm_90, whose griddepcontrol hooks take effect under a programmatic dependent launch (PDL);
  tg90p.cubin as tg90 with -DTERNARY_PREFETCH_BEFORE_WAIT (first weight loads issued before the wait);
  diag.cubin  ternary_gemv_diag.cu for sm_90 (empty kernels, a pure stream of the weight bytes).
Writes DIR/sweep.txt and DIR/sweep.json (or under $OUT when set).

Variants, per shape: the empty kernel and a pure stream (launch cost and the floor of these bytes in a graph); the
batch-1 row1 kernels (prologue inside); the int8 batch kernel for one row with activations prepared outside the graph
(no prologue at all), and with its prepare kernel in the graph; each without PDL (as the engine launches today) and with
PDL (weights before or after the wait); the int8 batch kernels for 2..16 rows with their prepare kernel. (The float32
batch kernels of the same design, measured in commit babcb68 and dropped, are in 2026-11-23-gemv-ramp.md.)
"""
import ctypes
import json
import os
import statistics
import sys
import traceback

import torch
import torch.nn.functional as F

import cuda_driver as cd

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("OUT", HERE)
dev = torch.device("cuda")
SMS = torch.cuda.get_device_properties(0).multi_processor_count
LOG = open(os.path.join(OUT, "sweep.txt"), "w")
RESULTS = {"device": torch.cuda.get_device_name(0), "sms": SMS, "timings": [], "correctness": [], "torch": {}}
WARPS, STEPS = 8, 4  # TERNARY_ROW1_WARPS, TERNARY_ROW1_STEPS
ROTATION, PASSES = 128 << 20, 4
SHAPES = [(4096, 4096), (4096, 11008), (11008, 4096)]  # K x N


def say(*parts):
    line = " ".join(str(p) for p in parts)
    print(line, flush=True)
    LOG.write(line + "\n")
    LOG.flush()


class LaunchAttribute(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4), ("value", ctypes.c_char * 64)]


class LaunchConfig(ctypes.Structure):
    _fields_ = [("gx", ctypes.c_uint), ("gy", ctypes.c_uint), ("gz", ctypes.c_uint), ("bx", ctypes.c_uint), ("by", ctypes.c_uint),
                ("bz", ctypes.c_uint), ("smem", ctypes.c_uint), ("stream", ctypes.c_void_p), ("attrs", ctypes.POINTER(LaunchAttribute)),
                ("nattrs", ctypes.c_uint)]


class Launch:
    """One kernel launch with fixed arguments; pdl: cuLaunchKernelEx with programmatic stream serialization."""

    def __init__(self, function, grid, block, smem, args, pdl=False):
        self.function, self.grid, self.block, self.smem, self.pdl = function, grid, block, smem, pdl
        self.values = []
        for a in args:
            if isinstance(a, torch.Tensor):
                self.values.append(ctypes.c_void_p(a.data_ptr()))
            elif a is None:
                self.values.append(ctypes.c_void_p(0))
            elif isinstance(a, tuple):
                self.values.append(ctypes.c_long(a[1]))
            else:
                self.values.append(ctypes.c_int(a))
        self.argv = (ctypes.c_void_p * len(self.values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in self.values])

    def __call__(self):
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        if not self.pdl:
            cd.check(cd.cuda.cuLaunchKernel(self.function, self.grid, 1, 1, self.block, 1, 1, self.smem, stream, self.argv, None), "launch")
            return
        attr = LaunchAttribute()
        attr.id = 6  # CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
        ctypes.memmove(attr.value, ctypes.byref(ctypes.c_int(1)), 4)
        config = LaunchConfig(self.grid, 1, 1, self.block, 1, 1, self.smem, stream, ctypes.pointer(attr), 1)
        cd.check(cd.cuda.cuLaunchKernelEx(ctypes.byref(config), self.function, self.argv, None), "launchEx")


def occupancy(function, block, smem):
    n = ctypes.c_int()
    cd.check(cd.cuda.cuOccupancyMaxActiveBlocksPerMultiprocessor(ctypes.byref(n), function, block, ctypes.c_size_t(smem)), "occupancy")
    return n.value


def words_per_row(k):
    return (k + 63) // 64 * 4


def teams(n, k, group_rows, function, smem):
    """KernelLaunch.TernaryTeams: parts and the persistent grid."""
    groups = (n + group_rows - 1) // group_rows
    steps = ((k + 63) // 64 + 3) // 4
    parts = 2 if steps >= 2 * 2 * STEPS else 1
    while parts < WARPS and groups * parts < 12 * SMS:
        parts *= 2
    while parts > 1 and parts > steps:
        parts //= 2
    per_block = WARPS // parts
    return max(1, min((groups + per_block - 1) // per_block, occupancy(function, WARPS * 32, smem) * SMS)), parts


class Gemv:
    """The kernels of one build of ternary_gemv.cu."""

    def __init__(self, path):
        self.module = cd.load_module(path)

    def fn(self, name, smem=0):
        return cd.get_function(self.module, name, smem)

    def pack(self, q):
        """q [N, K] int8 in {-1, 0, 1} -> the GPU layout through ternary_pack_gpu."""
        n, k = q.shape
        cw = (k + 15) // 16
        codes = torch.zeros((n, cw * 16), dtype=torch.int64, device=dev)
        codes[:, :k] = torch.where(q == 1, 1, torch.where(q == -1, 2, 0))
        canonical = (codes.view(n, cw, 16) << (2 * torch.arange(16, device=dev))).sum(dim=2)
        canonical = torch.where(canonical >= 1 << 31, canonical - (1 << 32), canonical).to(torch.int32).contiguous()
        wpr = words_per_row(k)
        packed = torch.empty(n * wpr, dtype=torch.int32, device=dev)
        Launch(self.fn("ternary_pack_gpu"), min((n * wpr + 255) // 256, 8 * SMS), 256, 0, [canonical, cw, packed, wpr, n, k])()
        return packed

    def row1(self, int8, packed, n, k, x, scale, bias, y, pdl=False):
        smem = (k + 63) // 64 * 64 if int8 else (((k + 63) // 64 + 3) // 4) * 256 * 6
        f = self.fn(f"ternary_gemv_{'w2a8' if int8 else 'w2f32'}_row1", smem)
        grid, parts = teams(n, k, 8 if int8 else 16, f, smem)
        return Launch(f, grid, WARPS * 32, smem, [packed, words_per_row(k), n, x, k, parts, scale, bias, y], pdl)

    def prepared(self, rows, k):
        """Scratch of ternary_quantize_rows_i8 for `rows` rows (the instantiated count)."""
        return dict(x=torch.zeros(rows * words_per_row(k) * 16, dtype=torch.int8, device=dev), scale=torch.zeros(rows, device=dev),
                    sum=torch.zeros(rows, dtype=torch.int32, device=dev))

    def prepare(self, x, rows, k, prep, pdl=False):
        return Launch(self.fn("ternary_quantize_rows_i8"), rows, 256, 0, [x, k, words_per_row(k) * 16, prep["x"], prep["scale"], prep["sum"]], pdl)

    def batch(self, instantiated, rows, packed, n, k, prep, scale, bias, y, pdl=False):
        f = self.fn(f"ternary_gemv_w2a8_rows_m{instantiated}")
        grid, parts = teams(n, k, 8, f, 0)
        return Launch(f, grid, WARPS * 32, 0, [packed, words_per_row(k), n, rows, parts, prep["x"], prep["scale"], prep["sum"], scale, bias, y], pdl)


def instantiated(rows):
    return 1 if rows == 1 else 2 if rows == 2 else 4 if rows <= 4 else 8 if rows <= 8 else 16


def reference(int8, q, x, scale, bias):
    """float64 reference and the tests' tolerance (TernaryGemvGpuTests.Check), x [M, K]."""
    qd = q.double()
    if int8:
        peak = torch.clamp(x.abs().amax(dim=1, keepdim=True), min=1e-5)
        xq = torch.clamp(torch.round(x * (127.0 / peak)), -127, 127).double()
        expected = (xq @ qd.T) * (peak.double() / 127.0) * scale.double()
    else:
        expected = (x.double() @ qd.T) * scale.double()
    expected = expected + bias.double()
    magnitude = x.double().abs().sum(dim=1, keepdim=True)
    return expected, 1e-6 * 3 * magnitude * scale.double().abs() + 1e-6 * expected.abs() + 1e-6


def check(name, got, expected, tolerance):
    ratio = ((got.double() - expected).abs() / tolerance).nan_to_num(1e30)
    worst = ratio.max().item()
    RESULTS["correctness"].append(dict(case=name, worst=worst))
    say(("ok      " if worst <= 1 else "MISMATCH"), name, "max err/tol", f"{worst:.3g}")


def correctness(builds):
    for (n, k, rows) in [(100, 97, 2), (257, 1000, 3), (33, 513, 16), (4096, 4096, 16), (512, 11008, 8), (24, 30001, 5), (4096, 4096, 1)]:
        q = torch.randint(-1, 2, (n, k), dtype=torch.int8, device=dev)
        x = (torch.rand(rows, k, device=dev) * 4 - 2).contiguous()
        scale = (torch.rand(n, device=dev) - 0.5).contiguous()
        bias = (torch.rand(n, device=dev) * 0.2 - 0.1).contiguous()
        for bname, build, pdl in builds:
            packed = build.pack(q)
            for int8 in (True, False):
                expected, tolerance = reference(int8, q, x, scale, bias)
                if int8:
                    m = instantiated(rows)
                    prep = build.prepared(m, k)
                    y = torch.full((rows, n), float("nan"), device=dev)
                    build.prepare(x, rows, k, prep, pdl)()
                    build.batch(m, rows, packed, n, k, prep, scale, bias, y, pdl)()
                    torch.cuda.synchronize()
                    check(f"{bname} rows_m{m} int8 N{n} K{k} M{rows}", y, expected, tolerance)
                if rows == 1:
                    y1 = torch.full((1, n), float("nan"), device=dev)
                    build.row1(int8, packed, n, k, x, scale, bias, y1, pdl)()
                    torch.cuda.synchronize()
                    check(f"{bname} row1 {'int8' if int8 else 'f32'} N{n} K{k}", y1, expected, tolerance)


def time_graph(launches, replays=10):
    """Per-launch time of a graph of PASSES passes over `launches` (a list of lists: one group per weight set)."""
    stream = torch.cuda.Stream()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.stream(stream):
        for group in launches:
            for launch in group:
                launch()
        torch.cuda.synchronize()
        graph.capture_begin()
        for _ in range(PASSES):
            for group in launches:
                for launch in group:
                    launch()
        graph.capture_end()
    torch.cuda.synchronize()
    return cd.timed_ms(graph.replay, launches=1, repeats=replays) * 1e3 / (PASSES * len(launches))


def record(shape, what, us, weight_bytes, copy):
    pct = 100 * weight_bytes / (us * 1e-6) / copy if weight_bytes else 0.0
    RESULTS["timings"].append(dict(shape=shape, variant=what, us=us, pct_copy=pct))
    say(f"{shape:>11} {what:<44} {us:8.2f} us {pct:6.1f}% of copy")


def guarded(fn, *args):
    try:
        fn(*args)
    except Exception:
        say("FAILED", fn.__name__, traceback.format_exc()[-1500:])


def timings(builds, diag, copy):
    out = torch.zeros(4, dtype=torch.int32, device=dev)
    for pdl in (False, True):
        f = diag.fn("empty_pdl" if pdl else "empty_kernel")
        record("-", f"empty kernel{' pdl' if pdl else ''}", time_graph([[Launch(f, SMS, 256, 0, [0], pdl)] for _ in range(64)]), 0, copy)
    tg80, tg90, tg90p = builds
    for (k, n) in SHAPES:
        shape = f"{k}x{n}"
        wbytes = n * words_per_row(k) * 4
        sets = [torch.randint(-2**31, 2**31 - 1, (n * words_per_row(k),), dtype=torch.int32, device=dev)
                for _ in range(max(2, ROTATION // wbytes + 1))]
        for pdl in (False, True):
            f = diag.fn("stream_read_pdl" if pdl else "stream_read")
            for blocks in (2 * SMS, 4 * SMS):
                record(shape, f"stream g{blocks}{' pdl' if pdl else ''}",
                       time_graph([[Launch(f, blocks, 256, 0, [s, ("long", wbytes // 16), out], pdl)] for s in sets]), wbytes, copy)
        x = torch.randn(16, k, device=dev)
        scale = torch.full((n,), 0.01, device=dev)
        y = torch.empty(16, n, device=dev)
        for int8 in (True, False):
            kind = "int8" if int8 else "f32"
            for bname, build, pdl in (("tg80", tg80, False), ("tg90 pdl", tg90, True), ("tg90p pdl", tg90p, True)):
                record(shape, f"{kind} row1 {bname}", time_graph([[build.row1(int8, s, n, k, x, scale, None, y, pdl)] for s in sets]), wbytes, copy)
                if not int8:
                    continue
                prep = build.prepared(1, k)
                build.prepare(x, 1, k, prep)()
                record(shape, f"{kind} rows_m1 prepared {bname}",
                       time_graph([[build.batch(1, 1, s, n, k, prep, scale, None, y, pdl)] for s in sets]), wbytes, copy)
                record(shape, f"{kind} prepare+rows_m1 {bname}",
                       time_graph([[build.prepare(x, 1, k, prep, pdl), build.batch(1, 1, s, n, k, prep, scale, None, y, pdl)]
                                   for s in sets]), wbytes, copy)
            for rows in (2, 4, 8, 16) if int8 else ():
                for bname, build, pdl in (("tg80", tg80, False), ("tg90p pdl", tg90p, True)):
                    if rows != 16 and bname != "tg80":
                        continue
                    prep = build.prepared(rows, k)
                    record(shape, f"{kind} prepare+rows_m{rows} {bname}",
                           time_graph([[build.prepare(x, rows, k, prep, pdl), build.batch(rows, rows, s, n, k, prep, scale, None, y, pdl)]
                                       for s in sets]), wbytes, copy)
        del sets
        torch.cuda.empty_cache()


def torch_linear():
    """bf16 F.linear at M = 1 and 16: eager, each call timed by events (as torch_baselines.py), and graph-replayed over
    rotating weight sets (as the GEMV above)."""
    for (k, n) in SHAPES:
        shape = f"{k}x{n}"
        wbytes = n * k * 2
        weights = [torch.randn(n, k, dtype=torch.bfloat16, device=dev) for _ in range(max(2, ROTATION // wbytes + 1))]
        for m in (1, 16):
            a = torch.randn(m, k, dtype=torch.bfloat16, device=dev)
            samples = []
            for _ in range(60):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                F.linear(a, weights[0])
                end.record()
                end.synchronize()
                samples.append(start.elapsed_time(end) * 1e3)
            eager = statistics.median(samples[10:])
            graphed = time_graph([[lambda w=w: F.linear(a, w)] for w in weights])
            RESULTS["torch"][f"{shape} M{m}"] = dict(eager_us=eager, graph_us=graphed)
            say(f"{shape:>11} torch bf16 F.linear M={m:<2} eager {eager:8.2f} us  graph {graphed:8.2f} us")
        del weights
        torch.cuda.empty_cache()


def main():
    say("device", RESULTS["device"], "SMs", SMS)
    tg80, tg90, tg90p = (Gemv(os.path.join(HERE, f)) for f in ("tg80.ptx", "tg90.cubin", "tg90p.cubin"))
    diag = Gemv(os.path.join(HERE, "diag.cubin"))
    guarded(correctness, [("tg80", tg80, False), ("tg90p pdl", tg90p, True)])
    src = torch.empty(1 << 30, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    copy = 2 * src.numel() / (cd.timed_ms(lambda: dst.copy_(src), launches=5, repeats=7) * 1e-3)
    del src, dst
    RESULTS["copy_GBps"] = copy / 1e9
    say(f"copy (read + write of 1 GiB): {copy / 1e9:.0f} GB/s")
    guarded(timings, (tg80, tg90, tg90p), diag, copy)
    guarded(torch_linear)
    json.dump(RESULTS, open(os.path.join(OUT, "sweep.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
