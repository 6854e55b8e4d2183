#!/usr/bin/env bash
# Where a GPU training step spends its time: runs a few steps of the Qwen3-style 125M anchor shape
# (T1024, B16, AdamW, bf16) under Nsight Compute, reading only each kernel's duration, and prints
# the kernels by total GPU time (calls, total ms, share) beside the sum and the step count.
# Needs build/cuda and ncu on the PATH. Clocks are left alone (--clock-control none).
# Usage: bench/gpu/profile.sh [steps] [top N] [extra `kiln train` overrides...]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="${1:-2}"
top="${2:-25}"
shift $(($# < 2 ? $# : 2))
csv="$(mktemp)"
trap 'rm -f "$csv"' EXIT
ncu --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
  build/cuda/bin/kiln train --config configs/train/shakespeare.yaml --device cuda \
  model=configs/models/qwen3-125m.yaml seq_len=1024 batch_size=16 precision=bf16 steps="$steps" \
  warmup=1 sample_tokens=0 eval_every=100000 checkpoint_every=100000 log_every=1 \
  out_dir=runs/profile-125m "$@" >"$csv" 2>/dev/null
python3 - "$csv" "$steps" "$top" <<'PY'
import csv, sys, collections, re
path, steps, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(path).read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith('"ID"'))
rows = list(csv.DictReader(lines[start:]))
total, calls = collections.Counter(), collections.Counter()
for r in rows:
    v = r.get("gpu__time_duration.sum", "")
    if not v or not v.replace(".", "").replace(",", "").isdigit():
        continue  # the units row
    name = re.sub(r"\(.*", "", r["Kernel Name"])[:90]
    total[name] += float(v.replace(",", "")) / 1e6  # ns -> ms
    calls[name] += 1
s = sum(total.values())
print(f"{len(rows)} kernel launches over {steps} steps; GPU time {s:.1f} ms ({s / steps:.1f} ms/step)")
print(f"{'ms':>9} {'share':>6} {'calls':>6}  kernel")
for name, t in total.most_common(top):
    print(f"{t:9.2f} {100 * t / s:5.1f}% {calls[name]:6d}  {name}")
PY
