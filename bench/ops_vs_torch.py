#!/usr/bin/env python3
"""Runs kiln's CPU op benchmarks and PyTorch on the same ops, shapes and thread count, side by side,
and prints a markdown table of times and ratios (torch time / kiln time: above 1 means kiln is faster).

Usage: bench/ops_vs_torch.py [--threads N] [--kiln-bench build/release/bench] [--filter REGEX]
Run with Debian's /usr/bin/python3 (python3-torch); libopenblas0-pthread must be installed so torch
uses OpenBLAS rather than the reference BLAS.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F


def t(*shape, grad=False):
    x = torch.randn(*shape)
    return x.requires_grad_(grad)


def fwd_bwd(fn):
    def run():
        fn().sum().backward()
    return run


def attn(b, h, s, d, backward=False):
    """Causal attention as PyTorch 1.13 users write it (it has no scaled_dot_product_attention)."""
    q, k, v = t(b, h, s, d, grad=backward), t(b, h, s, d, grad=backward), t(b, h, s, d, grad=backward)
    mask = torch.full((s, s), float("-inf")).triu(1)
    def f():
        return torch.softmax(q @ k.transpose(-1, -2) * d ** -0.5 + mask, -1) @ v
    return fwd_bwd(f) if backward else f


def softmax_fwd_bwd(log):
    x, dy = t(4096, 1024, grad=True), torch.randn(4096, 1024)
    fn = torch.log_softmax if log else torch.softmax
    return lambda: fn(x, -1).backward(dy)


def embedding(backward=False):
    # Zipf-like ids as bench_rows.cpp draws them: a few rows are hit often.
    ranks = torch.arange(1, 32001, dtype=torch.float64)
    ids = torch.multinomial(1.0 / ranks, 8192, replacement=True)
    w = t(32000, 1024, grad=backward)
    if not backward:
        return lambda: F.embedding(ids, w)
    gy = torch.randn(8192, 1024)
    return lambda: torch.ops.aten.embedding_dense_backward(gy, ids, 32000, -1, False)


def ce(n, v, backward=False):
    logits, tgt = t(n, v, grad=backward), torch.randint(0, v, (n,))
    f = lambda: F.cross_entropy(logits, tgt)
    return fwd_bwd(f) if backward else f


def rms(n, d, backward=False):
    x, w = t(n, d, grad=backward), t(d, grad=backward)
    def f():
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w
    return fwd_bwd(f) if backward else f


def torch_cases():
    """kiln benchmark name -> zero-argument callable doing the same work in PyTorch."""
    a1, b1 = t(1024, 1024), t(1024, 1024)
    a2, b2 = t(512, 576), t(576, 1536)
    xa, xb = t(4096, 1024), t(1024)
    xl, wl = t(512, 576, grad=True), t(1536, 576, grad=True)
    sm = t(4096, 1024)
    wr = t(2048, 2048)
    rows = {m: t(m, 2048) for m in (1, 2, 5, 8, 32)}
    return {
        **{f"linear_rows/{m}x2048x2048": (lambda x=x: F.linear(x, wr)) for m, x in rows.items()},
        "matmul/1024x1024x1024": lambda: a1 @ b1,
        "matmul/512x576x1536": lambda: a2 @ b2,
        "add_bcast/4096x1024": lambda: xa + xb,
        "sum_lastdim/4096x1024": lambda: xa.sum(-1),
        "linear_fwd_bwd/512x576x1536": fwd_bwd(lambda: F.linear(xl, wl)),
        "softmax/4096x1024": lambda: torch.softmax(sm, -1),
        "log_softmax/4096x1024": lambda: torch.log_softmax(sm, -1),
        "rms_norm/4096x1024": rms(4096, 1024),
        "rms_norm_fwd_bwd/4096x1024": rms(4096, 1024, backward=True),
        "softmax_dim0/4096x1024": lambda: torch.softmax(sm, 0),
        "softmax_fwd_bwd/4096x1024": softmax_fwd_bwd(False),
        "log_softmax_fwd_bwd/4096x1024": softmax_fwd_bwd(True),
        "embedding/32000x1024_n8192": embedding(),
        "embedding_backward/32000x1024_n8192": embedding(backward=True),
        "attention/B1H8T512D64": attn(1, 8, 512, 64),
        "attention/B1H8T2048D64": attn(1, 8, 2048, 64),
        "attention/B1H8T2048D128": attn(1, 8, 2048, 128),
        "attention_fwd_bwd/B1H8T512D64": attn(1, 8, 512, 64, backward=True),
        "attention_fwd_bwd/B1H8T2048D64": attn(1, 8, 2048, 64, backward=True),
        "cross_entropy/2048x50257": ce(2048, 50257),
        "cross_entropy_fwd_bwd/2048x50257": ce(2048, 50257, backward=True),
    }


def time_torch(fn, min_time=0.5):
    fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kiln-bench", default="build/release/bench")
    ap.add_argument("--filter", default=".")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, KILN_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    kiln = {}
    for exe in sorted(os.listdir(args.kiln_bench)):
        if not exe.startswith("bench_"):
            continue
        out = subprocess.run([os.path.join(args.kiln_bench, exe), "--benchmark_format=json",
                              f"--benchmark_filter={args.filter}", "--benchmark_min_time=0.5",
                              "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                             env=env, capture_output=True, text=True, check=True).stdout
        for b in json.loads(out)["benchmarks"]:
            if b.get("aggregate_name") == "median":
                name = b["run_name"].split("/real_time")[0]
                m = re.search(r"/threads:(\d+)", name)
                if m:  # benchmarks that sweep threads: keep the run at --threads
                    if int(m.group(1)) != args.threads:
                        continue
                    name = name[:m.start()] + name[m.end():]
                kiln[name] = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    cases = torch_cases()
    print(f"| op | kiln ms | torch {torch.__version__} ms | torch/kiln |")
    print("| --- | --- | --- | --- |")
    for name in sorted(kiln):
        if name not in cases or not re.search(args.filter, name):
            print(f"| {name} | {kiln[name]*1e3:.3f} | — | — |")
            continue
        tt = time_torch(cases[name])
        print(f"| {name} | {kiln[name]*1e3:.3f} | {tt*1e3:.3f} | {tt/kiln[name]:.2f}× |")


if __name__ == "__main__":
    main()
