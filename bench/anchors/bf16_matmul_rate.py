# The bf16 matmul rate an MFU is measured against: PyTorch bf16 F.linear (cuBLAS) on the 1B preset's products at 1 x 2048
# tokens (x W^T for the attention projections, FFN up and down, and the output head), in the call that times the step.
# Usage: python3 bf16_matmul_rate.py   (prints JSON: per shape and the flop-weighted mean)
import json, torch, torch.nn.functional as F
M = 2048
shapes = {"attention 2048x2048": (2048, 2048), "ffn up 2048x5632": (2048, 5632), "ffn down 5632x2048": (5632, 2048), "head 2048x65536": (2048, 65536)}
def timed(fn, n=50):
    for _ in range(5): fn()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / n / 1e3
rows, flops, seconds = {}, 0.0, 0.0
for name, (k, n) in shapes.items():
    x = torch.randn(M, k, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    t = timed(lambda: F.linear(x, w))
    rows[name] = round(2 * M * k * n / t / 1e12, 1)
    flops += 2 * M * k * n; seconds += t
print(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "tokens": M, "TFLOPs": rows,
                  "mean_TFLOPs": round(flops / seconds / 1e12, 1)}, indent=1))
