# PyTorch SDPA beside TrainingAttentionGpuBenchmarks, float32 (the TF32 cases' peer) and bf16 (FlashAttention-2, the
# bf16 cases' peer): 1 x T, 32 heads, d 128, causal, T 2K and 4K. k and v carry 32 heads too (SDPA's GQA path is
# version-dependent): the same flops as the 32/8 bench, 4x its k/v bytes. Counts the causal half: 2 T^2 d heads
# forward, 5 T^2 d heads backward. Usage: python3 torch_sdpa_attention.py
import torch, torch.nn.functional as F
B, H, D = 1, 32, 128
print(torch.__version__, torch.cuda.get_device_name())
def timed(fn, n=10):
    fn(); torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / n / 1e3
for dtype, T in [(d, t) for d in (torch.float32, torch.bfloat16) for t in (2048, 4096)]:
    q = torch.randn(B, H, T, D, device='cuda', dtype=dtype, requires_grad=True)
    k = torch.randn(B, H, T, D, device='cuda', dtype=dtype, requires_grad=True)
    v = torch.randn(B, H, T, D, device='cuda', dtype=dtype, requires_grad=True)
    fwd = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
    o = fwd(); do = torch.randn_like(o)
    tf = timed(fwd)
    tb = timed(lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True))
    f = B * H * T * T * D
    print(f"{dtype} T {T}: forward {tf*1e3:.3f} ms {2*f/tf/1e12:.1f} TFLOP/s, backward {tb*1e3:.3f} ms {5*f/tb/1e12:.1f} TFLOP/s")
