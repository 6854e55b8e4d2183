#!/usr/bin/env bash
# Perplexity cost of quantization on a model that has learned something: the Shakespeare model
# shape (configs/models/shakespeare.yaml, 3.2M parameters, byte tokenizer) trained briefly by
# `kiln train`, written as f32 GGUF, then `kiln quantize`d to q8_0, q4_0 and q4_k; `kiln
# perplexity` scores held-out text (the corpus' last 20,000 bytes, which training never saw) on
# each file. Measured: f32 10.99, increases q8_0 +0.01 %, q4_0 +0.09 %, q4_k +0.16 %; the bounds
# (|increase| under 0.5 % for q8_0 and 2 % for q4_0 and q4_k) leave room for other machines'
# rounding, and each quantized perplexity must differ from f32's (the file really is quantized).
# Usage: quant_ppl_e2e.sh KILN SRC_DIR WORK_DIR
set -euo pipefail
kiln=$1 src=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
corpus=$src/data/tinyshakespeare.txt
tok=$src/configs/tokenizers/shakespeare-bytes
head -c -20000 "$corpus" >"$work/train.txt"
tail -c 20000 "$corpus" >"$work/heldout.txt"
cat >"$work/recipe.yaml" <<YAML
model: $src/configs/models/shakespeare.yaml
data: $work/train.txt
tokenizer: $tok
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
  out=$("$kiln" --threads 2 perplexity --model "$work/$t.gguf" --tokenizer "$tok" \
    --file "$work/heldout.txt" --ctx 256 --stride 128)
  ppl[$t]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ppl"])' "$out")
done
python3 - "${ppl[f32]}" "${ppl[q8_0]}" "${ppl[q4_0]}" "${ppl[q4_k]}" <<'PY' || fail "bounds"
import sys
f32, q8, q40, q4k = map(float, sys.argv[1:])
inc = {t: v / f32 - 1 for t, v in (("q8_0", q8), ("q4_0", q40), ("q4_k", q4k))}
print(f"perplexity f32 {f32:.4f}; " + ", ".join(f"{t} {v:.4f} ({inc[t]:+.2%})"
      for t, v in (("q8_0", q8), ("q4_0", q40), ("q4_k", q4k))))
# Uniform over the 257 byte tokens would be 257; 150 steps reach about 11.
assert 1 < f32 < 20, f"the trained model should have learned something: ppl {f32}"
assert all(v != 0 for v in inc.values()), inc
assert abs(inc["q8_0"]) < 0.005, inc
assert abs(inc["q4_0"]) < 0.02 and abs(inc["q4_k"]) < 0.02, inc
PY
echo "quant perplexity e2e: ok"
