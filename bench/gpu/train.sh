#!/usr/bin/env bash
# GPU training figures, one run on one GPU (needs build/cuda):
#  1. loss parity: the Shakespeare recipe for 200 steps on cpu and on cuda (f32, same seed), and on
#     cuda in bf16; prints the largest per-step loss difference from the CPU run.
#  2. throughput: the Qwen3-style 125M anchor shape (T1024, B16, AdamW, bf16) for a few steps;
#     prints kiln's tokens/s (PyTorch's anchor figures are in ANCHORS.md).
# Usage: bench/gpu/train.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="${1:-200}"
kiln=build/cuda/bin/kiln
common=(steps="$steps" sample_tokens=0 eval_every=100000 checkpoint_every=100000 log_every=1)
for run in cpu:f32 cuda:f32 cuda:bf16; do
  dev=${run%%:*} prec=${run##*:}
  "$kiln" train --config configs/train/shakespeare.yaml --device "$dev" "${common[@]}" \
    precision="$prec" out_dir="runs/parity-$dev-$prec" | tail -2
done
python3 - <<'PY'
import json
def losses(run):
    return {m["step"]: m["loss"] for m in map(json.loads, open(f"runs/{run}/metrics.jsonl"))}
cpu = losses("parity-cpu-f32")
for run in ("parity-cuda-f32", "parity-cuda-bf16"):
    other = losses(run)
    d = max(abs(other[s] - cpu[s]) for s in cpu)
    last = max(cpu)
    print(f"{run}: {len(other)} steps, max |loss - cpu loss| = {d:.2e}, "
          f"final loss {other[last]:.4f} vs cpu {cpu[last]:.4f}")
PY
"$kiln" train --config configs/train/shakespeare.yaml --device cuda model=configs/models/qwen3-125m.yaml \
  seq_len=1024 batch_size=16 precision=bf16 steps=6 warmup=1 sample_tokens=0 eval_every=100000 \
  checkpoint_every=100000 log_every=1 out_dir=runs/qwen3-125m-gpu | tail -4
