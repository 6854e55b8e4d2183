#!/usr/bin/env python3
"""Trains the same model, data and batch in kiln and in PyTorch on the CPU, side by side, and prints
tokens/s and peak resident memory of each (kiln / torch ratios: above 1 means kiln is faster).

Both sides: a Llama-style decoder built from configs/models/PRESET.yaml, f32 weights, AdamW
(lr 1e-3, weight decay 0.1, betas 0.9/0.99), gradient clipping at 1.0, the bundled Shakespeare corpus
as byte tokens, batch B x T, the same thread count. Each side runs in its own process so that its
peak RSS is its own; tokens/s is the median over the steps after the first two (warm-up).

Usage: /usr/bin/python3 bench/train_vs_torch.py [--preset debug] [--seq-len 512] [--batch 8]
           [--steps 8] [--threads 2] [--kiln build/release/bin/kiln]
PyTorch is Debian's python3-torch (1.13, which has no scaled_dot_product_attention, so attention is
written the way its users write it: matmul, causal mask, softmax, matmul).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_preset(name):
    import yaml
    path = name if name.endswith(".yaml") else os.path.join(ROOT, "configs", "models", name + ".yaml")
    with open(path) as f:
        return yaml.safe_load(f)


def torch_side(args):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = load_preset(args.preset)
    H, L, V = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim", H // nh)
    inter, eps, theta = c["intermediate_size"], c["rms_norm_eps"], c["rope_theta"]
    T, B = args.seq_len, args.batch

    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)

    inv = 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd)
    ang = torch.outer(torch.arange(T).float(), inv)
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    mask = torch.full((T, T), float("-inf")).triu(1)

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(H), RMSNorm(H)
            self.q = nn.Linear(H, nh * hd, bias=False)
            self.k = nn.Linear(H, nkv * hd, bias=False)
            self.v = nn.Linear(H, nkv * hd, bias=False)
            self.o = nn.Linear(nh * hd, H, bias=False)
            self.gate = nn.Linear(H, inter, bias=False)
            self.up = nn.Linear(H, inter, bias=False)
            self.down = nn.Linear(inter, H, bias=False)

        def forward(self, x):
            h = self.n1(x)
            q = rope(self.q(h).view(B, T, nh, hd).transpose(1, 2))
            k = rope(self.k(h).view(B, T, nkv, hd).transpose(1, 2))
            v = self.v(h).view(B, T, nkv, hd).transpose(1, 2)
            k = k.repeat_interleave(nh // nkv, 1)
            v = v.repeat_interleave(nh // nkv, 1)
            a = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5 + mask, -1) @ v
            x = x + self.o(a.transpose(1, 2).reshape(B, T, nh * hd))
            h = self.n2(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, H)
            self.blocks = nn.ModuleList([Block() for _ in range(L)])
            self.norm = RMSNorm(H)
            self.head = None if c.get("tie_word_embeddings") else nn.Linear(H, V, bias=False)

        def forward(self, ids):
            x = self.emb(ids)
            for b in self.blocks:
                x = b(x)
            x = self.norm(x)
            return x @ self.emb.weight.t() if self.head is None else self.head(x)

    model = Model()
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.normal_(p, std=c.get("initializer_range", 0.02))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    data = torch.frombuffer(bytearray(open(os.path.join(ROOT, "data", "tinyshakespeare.txt"), "rb").read()),
                            dtype=torch.uint8).long()
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(args.steps):
        starts = torch.randint(0, len(data) - T - 1, (B,), generator=g)
        batch = torch.stack([data[s: s + T + 1] for s in starts])
        t0 = time.perf_counter()
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    tok_s = [B * T / t for t in times[2:]]
    print(json.dumps({"tok_s": statistics.median(tok_s), "loss": loss.item()}))


def run_child(cmd, env=None):
    """Runs cmd; returns (stdout, peak RSS in MiB of that process alone, from wait4)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{err.read()[-3000:]}")
    return out, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="debug")
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "release", "bin", "kiln"))
    ap.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_only:
        torch_side(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [args.kiln, "--threads", str(args.threads), "train", "--config",
               os.path.join(ROOT, "configs", "train", "shakespeare.yaml"),
               f"model={args.preset}", f"seq_len={args.seq_len}", f"batch_size={args.batch}",
               f"steps={args.steps}", "warmup=0", "schedule=constant", "lr=1e-3", "log_every=1",
               f"eval_every={args.steps + 1}", "sample_tokens=0", f"checkpoint_every={args.steps + 1}",
               f"out_dir={tmp}/run"]
        _, kiln_rss = run_child(cmd, env={**os.environ, "KILN_THREADS": str(args.threads)})
        rows = [json.loads(l) for l in open(os.path.join(tmp, "run", "metrics.jsonl"))]
        kiln_tok_s = statistics.median(r["tok_s"] for r in rows if r["step"] > 2)
    out, torch_rss = run_child([sys.executable, os.path.abspath(__file__), "--torch-only",
                                f"--preset={args.preset}", f"--seq-len={args.seq_len}",
                                f"--batch={args.batch}", f"--steps={args.steps}",
                                f"--threads={args.threads}"])
    torch_tok_s = json.loads(out.strip().splitlines()[-1])["tok_s"]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"| {args.preset} T{args.seq_len} B{args.batch} | {args.threads} | {kiln_tok_s:.0f} | "
          f"{torch_tok_s:.0f} | {kiln_tok_s / torch_tok_s:.2f}x | {kiln_rss:.0f} | "
          f"{torch_rss:.0f} | {commit} |")


if __name__ == "__main__":
    main()
