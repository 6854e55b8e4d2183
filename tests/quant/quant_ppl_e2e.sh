#!/usr/bin/env bash
# Perplexity cost of quantization on a model that has learned something: the Shakespeare model
# shape (configs/models/shakespeare.yaml, 3.2M parameters, byte tokenizer) trained briefly by
# `kiln train`, written as f32 GGUF, then `kiln quantize`d to q8_0, q4_0 and q4_k; `kiln
# perplexity` scores held-out text (the corpus' last 20,000 bytes, which training never saw) on
# each file. The bounds on the increase over f32 (q8_0 < 1 %, q4_k < 6 %, q4_0 < 10 %) hold with
# room over what this run measures; the increase must also be above zero for q4 (the file really
# is quantized). Usage: quant_ppl_e2e.sh KILN SRC_DIR WORK_DIR
set -euo pipefail
kiln=$1 src=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
corpus=$src/data/tinyshakespeare.txt
head -c -20000 "$corpus" >"$work/train.txt"
tail -c 20000 "$corpus" >"$work/heldout.txt"
cat >"$work/recipe.yaml" <<YAML
model: $src/configs/models/shakespeare.yaml
data: $work/train.txt
tokenizer: $src/configs/tokenizers/shakespeare-bytes
val_fraction: 0.05
seq_len: 128
batch_size: 8
steps: 150
lr: 3.0e-3
min_lr: 3.0e-4
warmup: 10
schedule: cosine
seed: 1337
log_every: 50
eval_every: 150
eval_batches: 2
sample_tokens: 0
checkpoint_every: 150
out_dir: $work/run
YAML
"$kiln" --threads 2 train --config "$work/recipe.yaml" >"$work/train.out" 2>&1 || fail "train: $(tail "$work/train.out")"
ckpt=$(ls -d "$work"/run/checkpoints/step_* | tail -1)
"$kiln" convert --model "$ckpt" --to gguf --type f32 --out "$work/f32.gguf" >/dev/null
for t in q8_0 q4_0 q4_k; do
  "$kiln" quantize --model "$work/f32.gguf" --type "$t" --out "$work/$t.gguf" >/dev/null
done
declare -A ppl
for t in f32 q8_0 q4_0 q4_k; do
  out=$("$kiln" --threads 2 perplexity --model "$work/$t.gguf" --file "$work/heldout.txt" --ctx 256 --stride 128)
  ppl[$t]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ppl"])' "$out")
done
python3 - "${ppl[f32]}" "${ppl[q8_0]}" "${ppl[q4_0]}" "${ppl[q4_k]}" <<'PY' || fail "bounds"
import sys
f32, q8, q40, q4k = map(float, sys.argv[1:])
inc = {t: v / f32 - 1 for t, v in (("q8_0", q8), ("q4_0", q40), ("q4_k", q4k))}
print(f"perplexity f32 {f32:.4f}; " + ", ".join(f"{t} {v:.4f} ({inc[t]:+.2%})"
      for t, v in (("q8_0", q8), ("q4_0", q40), ("q4_k", q4k))))
assert 1 < f32 < 10, f"the trained model should have learned something: ppl {f32}"
assert abs(inc["q8_0"]) < 0.01, inc
assert 0 < inc["q4_0"] < 0.10, inc
assert 0 < inc["q4_k"] < 0.06, inc
PY
echo "quant perplexity e2e: ok"
