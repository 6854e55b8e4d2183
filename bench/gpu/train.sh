#!/usr/bin/env bash
# GPU training figures, one run on one GPU (needs build/cuda):
#  1. loss parity: the Shakespeare recipe for 200 steps on cpu and on cuda (f32, same seed), and on
#     cuda in bf16; prints the largest per-step loss difference from the CPU run.
#  2. throughput at the two anchor shapes (AdamW, bf16): Qwen3-style 125M (T1024, B16, 20 steps)
#     and Qwen3-0.6B (T2048, B4, 12 steps), the median step's tokens/s after 3 warm-up steps
#     (each step timed by the trainer, which reads the loss back every step), beside PyTorch's
#     anchor figures (ANCHORS.md: eager 202K / compiled 447K, and 37.6K / 85.5K).
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
throughput() {  # throughput NAME EAGER COMPILED overrides...: the median step after 3 warm-up steps
  local name=$1 eager=$2 compiled=$3
  shift 3
  rm -rf "runs/throughput-$name"
  "$kiln" train --config configs/train/shakespeare.yaml --device cuda precision=bf16 warmup=1 \
    sample_tokens=0 eval_every=100000 checkpoint_every=100000 log_every=1 \
    out_dir="runs/throughput-$name" "$@" >/dev/null 2>&1
  python3 - "runs/throughput-$name/metrics.jsonl" "$name" "$eager" "$compiled" <<'PY'
import json, statistics, sys
path, name, eager, compiled = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
steps = [json.loads(l) for l in open(path)]
t = statistics.median(m["tok_s"] for m in steps if m["step"] > 3)
print(f"| {name} | {t:,.0f} | {t / eager:.2f}x eager ({eager:,.0f}) | "
      f"{t / compiled:.2f}x compiled ({compiled:,.0f}) |")
PY
}
echo "| shape | kiln tokens/s | vs PyTorch eager | vs torch.compile |"
echo "| --- | --- | --- | --- |"
throughput qwen3-125m 202000 447000 model=configs/models/qwen3-125m.yaml seq_len=1024 \
  batch_size=16 steps=20
throughput qwen3-0.6b 37600 85500 model=configs/models/qwen3-0.6b.yaml seq_len=2048 batch_size=4 \
  steps=12
