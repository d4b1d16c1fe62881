# The same architecture as Tritter's model graph (DESIGN.md §1: BitNet b1.58 reference scheme, QK-Norm, rotate-half
# RoPE, grouped-query attention, squared-ReLU gated MLP, post-MLP LayerNorm), written the plain PyTorch way, to measure
# what a PyTorch user gets for one training step on the same GPU: eager float32, torch.compile, and bf16 autocast.
# Run on the GPU machine in the same call as Tritter's training benchmark; prints one JSON object.
# Usage: python3 torch_tritter_train.py [--preset 1B] [--batch 1] [--seq 2048] [--steps 5]
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # hidden, layers, heads, kv heads, intermediate, vocab (TritterPresets.cs)
    "tiny": (64, 2, 4, 2, 172, 512), "small": (128, 4, 4, 2, 344, 4096),
    "1B": (2048, 16, 16, 16, 5632, 65536), "3B": (2560, 26, 20, 20, 6912, 65536), "7B": (4096, 32, 32, 8, 11008, 65536),
}


class TernaryLinear(nn.Linear):
    """Per-row alpha = mean|w|, q = sign(w) where |w| > alpha, y = x (q * scale)^T + b; straight-through gradient."""

    def __init__(self, inputs, outputs, bias=True):
        super().__init__(inputs, outputs, bias=bias)
        self.scale = nn.Parameter(torch.full((outputs, 1), 2 / math.sqrt(inputs)))
        if bias:
            nn.init.zeros_(self.bias)

    def forward(self, x):
        w = self.weight
        alpha = w.abs().mean(dim=1, keepdim=True)
        q = torch.where(w.abs() > alpha, torch.sign(w), torch.zeros_like(w))
        w_q = w + (q - w).detach()  # straight-through
        return F.linear(x, w_q * self.scale, self.bias)


def rope(x, theta):  # x: [b, t, h, d], rotate-half form
    b, t, h, d = x.shape
    inv = 1.0 / theta ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)
    ang = torch.arange(t, device=x.device, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos()[None, :, None, :].to(x.dtype), ang.sin()[None, :, None, :].to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, kv, inter):
        super().__init__()
        self.heads, self.kv, self.hd = heads, kv, d // heads
        self.norm_in, self.norm_post = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = TernaryLinear(d, d), TernaryLinear(d, kv * self.hd), TernaryLinear(d, kv * self.hd), TernaryLinear(d, d)
        self.q_norm, self.k_norm = nn.LayerNorm(self.hd), nn.LayerNorm(self.hd)
        self.gate, self.up, self.down = TernaryLinear(d, inter), TernaryLinear(d, inter), TernaryLinear(inter, d)

    def forward(self, x):
        b, t, d = x.shape
        n = self.norm_in(x)
        q = rope(self.q_norm(self.q(n).view(b, t, self.heads, self.hd)), 500000.0).transpose(1, 2)
        k = rope(self.k_norm(self.k(n).view(b, t, self.kv, self.hd)), 500000.0).transpose(1, 2)
        v = self.v(n).view(b, t, self.kv, self.hd).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.heads != self.kv)
        h = x + self.o(a.transpose(1, 2).reshape(b, t, d))
        g = self.gate(h)
        return self.norm_post(h + self.down(g * F.relu(g) * self.up(h)))


class Model(nn.Module):
    def __init__(self, d, layers, heads, kv, inter, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        self.blocks = nn.ModuleList(Block(d, heads, kv, inter) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.head = TernaryLinear(d, vocab, bias=False)

    def forward(self, tokens, targets):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), targets.view(-1), ignore_index=0)


def measure(mode, args, config):
    torch.manual_seed(0)
    model = Model(*config).cuda()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, betas=(0.9, 0.95), fused=True)
    vocab = config[-1]
    tokens = torch.randint(1, vocab, (args.batch, args.seq), device="cuda")
    targets = torch.randint(1, vocab, (args.batch, args.seq), device="cuda")
    step_model = torch.compile(model) if mode == "compile" else model

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16-autocast"):
            loss = step_model(tokens, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    torch.cuda.reset_peak_memory_stats()
    for _ in range(3 if mode == "compile" else 2):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    return {"mode": mode, "parameters": params, "step_s": seconds, "tokens_per_s": args.batch * args.seq / seconds,
            "peak_GiB": torch.cuda.max_memory_allocated() / 2**30}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="1B")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--modes", default="eager,compile,bf16-autocast")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "preset": args.preset,
           "batch": args.batch, "seq": args.seq, "runs": []}
    for mode in args.modes.split(","):
        try:
            out["runs"].append(measure(mode, args, PRESETS[args.preset]))
        except Exception as e:  # report and go on: one failing mode must not hide the others
            out["runs"].append({"mode": mode, "error": str(e)[:300]})
        torch.cuda.empty_cache()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
