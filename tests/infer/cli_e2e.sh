#!/usr/bin/env bash
# The kiln command's inference subcommands on tiny models: usage: cli_e2e.sh KILN SOURCE_DIR WORK
set -euo pipefail
kiln=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# generate --print-ids: transformers' greedy ids (tests/data/hf/generate.json).
prompt=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['models']['llama'][1]; print(','.join(map(str,r['prompt'])))" "$src/tests/data/hf/generate.json")
want=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['models']['llama'][1]['generated']))" "$src/tests/data/hf/generate.json")
got=$("$kiln" generate --model "$src/tests/data/hf/llama" --ids "$prompt" --temperature 0 \
      --max-tokens 16 --ignore-eos --print-ids --stats 2>"$work/gen.err")
[ "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$got")" = "$want" ] \
  || fail "generate ids $got, expected $want"
grep -q "decode .* tok/s" "$work/gen.err" || fail "--stats printed no decode rate"

# --logprobs: one JSON line per token, the chosen token's log-probability among the top N.
"$kiln" generate --model "$src/tests/data/hf/llama" --ids "$prompt" --temperature 0 \
  --max-tokens 4 --ignore-eos --logprobs 3 >"$work/lp.out"
python3 - "$work/lp.out" <<'PY' || fail "--logprobs output: $(cat "$work/lp.out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 4, lines
for t in lines:
    lps = [x["logprob"] for x in t["top"]]
    assert len(lps) == 3 and lps == sorted(lps, reverse=True) and lps[0] <= 0
    assert t["id"] == t["top"][0]["id"] and abs(t["logprob"] - lps[0]) < 1e-6  # greedy
PY

# Errors are messages, not crashes.
if "$kiln" generate --model "$src/tests/data/hf/llama" --ids 1,999 2>"$work/bad.err"; then
  fail "an unknown token id was accepted"
fi
grep -q "token id 999 at index 1 is out of range" "$work/bad.err" || fail "$(cat "$work/bad.err")"
if "$kiln" generate --model "$src/tests/data/hf/llama" --ids 1 --top-p 0 2>"$work/bad.err"; then
  fail "top_p 0 was accepted"
fi
grep -q "top_p" "$work/bad.err" || fail "$(cat "$work/bad.err")"

# chat without a chat template: plain continuation, said on stderr; /reset and /exit.
tokdir="$src/configs/tokenizers/shakespeare-bytes"
printf 'ROMEO:\n/reset\nJULIET:\n/exit\nnever read\n' |
  "$kiln" chat --model "$src/tests/infer/data/tiny-bytes.yaml" --tokenizer "$tokdir" \
    --temperature 0 --max-tokens 8 >"$work/plain.out" 2>"$work/plain.err"
grep -q "no chat template" "$work/plain.err" || fail "no fallback note: $(cat "$work/plain.err")"
grep -q "history cleared" "$work/plain.err" || fail "/reset not acknowledged"
[ "$(wc -l <"$work/plain.out")" -eq 2 ] || fail "expected 2 replies, got: $(cat "$work/plain.out")"

# chat with a template: the same tokenizer with a chat_template added.
mkdir -p "$work/tok"
cp "$tokdir/tokenizer.json" "$work/tok/"
python3 - "$tokdir/tokenizer_config.json" "$work/tok/tokenizer_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["chat_template"] = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                      "{% if add_generation_prompt %}assistant:{% endif %}")
json.dump(c, open(sys.argv[2], "w"))
PY
printf 'hello\nhow are you\n' |
  "$kiln" chat --model "$src/tests/infer/data/tiny-bytes.yaml" --tokenizer "$work/tok" \
    --system "be brief" --temperature 0 --max-tokens 6 --stats >"$work/chat.out" 2>"$work/chat.err"
grep -q "no chat template" "$work/chat.err" && fail "template not used"
[ "$(grep -c "stats:" "$work/chat.err")" -eq 2 ] || fail "expected 2 replies: $(cat "$work/chat.err")"
# A checkpoint of `kiln train` is a model folder with its tokenizer: chat finds both.
for i in $(seq 200); do echo "To be, or not to be, that is the question $i."; done >"$work/corpus.txt"
cat >"$work/recipe.yaml" <<YAML
model: $src/tests/infer/data/tiny-bytes.yaml
data: $work/corpus.txt
tokenizer: $tokdir
seq_len: 32
batch_size: 4
steps: 4
lr: 3.0e-3
warmup: 1
log_every: 2
eval_every: 4
eval_batches: 1
sample_tokens: 4
checkpoint_every: 4
out_dir: $work/run
YAML
"$kiln" train --config "$work/recipe.yaml" >"$work/train.out" 2>&1 || fail "train: $(cat "$work/train.out")"
ckpt=$(ls -d "$work"/run/checkpoints/step_* | tail -1)
printf 'To be\n' | "$kiln" chat --model "$ckpt" --temperature 0 --max-tokens 8 \
  >"$work/ckpt.out" 2>"$work/ckpt.err" || fail "chat on a checkpoint: $(cat "$work/ckpt.err")"
grep -q "no chat template" "$work/ckpt.err" || fail "$(cat "$work/ckpt.err")"
[ -s "$work/ckpt.out" ] || fail "no reply from the checkpoint"
ppl=$("$kiln" perplexity --model "$ckpt" --file "$work/corpus.txt" --ctx 64 --stride 32)
python3 -c 'import json,sys,math; j=json.loads(sys.argv[1]); assert j["tokens"] > 1000 and math.isfinite(j["ppl"]) and j["ppl"] > 1, j' "$ppl" \
  || fail "perplexity printed $ppl"
echo "cli e2e: ok"
