#!/usr/bin/env bash
# kiln generate --draft and kiln bench infer on the tiny checkpoints:
# usage: bench_e2e.sh KILN SOURCE_DIR WORK
set -euo pipefail
kiln=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
hf="$src/tests/data/hf"

# Speculative decoding: transformers' greedy ids of the sliding-window model, with another
# family's model as the draft; --stats reports the acceptance rate.
fx() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['models']['mistral_sliding'][1]; print($1)" "$hf/generate.json"; }
prompt=$(fx "','.join(map(str,r['prompt']))")
want=$(fx "json.dumps(r['generated'])")
got=$("$kiln" generate --model "$hf/mistral_sliding" --draft "$hf/qwen3" --draft-tokens 3 \
      --ids "$prompt" --temperature 0 --max-tokens 16 --ignore-eos --print-ids --stats \
      2>"$work/spec.err")
[ "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$got")" = "$want" ] \
  || fail "speculative ids $got, expected $want"
grep -q "speculative: .* proposals accepted" "$work/spec.err" || fail "$(cat "$work/spec.err")"
if "$kiln" generate --model "$hf/llama" --draft "$src/tests/infer/data/tiny-bytes.yaml" \
     --ids 1,2 2>"$work/bad.err"; then
  fail "a draft with another vocabulary was accepted"
fi
grep -q "draft model: vocab_size 257, but the target's is 256" "$work/bad.err" \
  || fail "$(cat "$work/bad.err")"

# bench infer: two models side by side; the table has a row per model, prompt and batch size,
# and the plots are PNGs.
"$kiln" bench infer --model "$hf/llama" --model "$hf/llama_bias_mqa" --model "$hf/mistral_sliding" \
  --prompt-lengths 16,40 --batch-sizes 1,3 --gen 6 --out "$work/bench" >"$work/bench.out"
python3 - "$work/bench" <<'PY' || fail "bench infer output"
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/infer_bench.csv")))
keys = [(r["model"], int(r["prompt"]), int(r["batch"])) for r in rows]
want = [(m, p, b) for m in ("llama", "llama_bias_mqa", "mistral_sliding") for p in (16, 40)
        for b in (1, 3)]
assert keys == want, keys
for r in rows:
    assert float(r["prefill_s"]) > 0 and float(r["decode_tok_s"]) > 0, r
    assert int(r["gen"]) == 6
kinds = {r["model"]: r["attention"] for r in rows}
assert kinds == {"llama": "GQA 4/2", "llama_bias_mqa": "MQA 4/1",
                 "mistral_sliding": "GQA 4/2 SWA 4"}, kinds
# KV bytes per token: 2 (k, v) x 2 layers x kv_heads x head_dim x 4 bytes.
per_tok = {r["model"]: int(r["kv_bytes_per_token"]) for r in rows}
assert per_tok["llama"] == 2 * per_tok["llama_bias_mqa"], per_tok
j = json.load(open(d + "/infer_bench.json"))
assert len(j["rows"]) == len(rows)
kv = {c["model"]: c for c in j["kv_cache"]}
# The full-attention cache grows with length; the sliding one stops at its window's blocks.
assert kv["llama"]["bytes"][-1] > kv["llama"]["bytes"][0]
assert kv["mistral_sliding"]["bytes"][-1] < kv["llama"]["bytes"][-1]
md = open(d + "/infer_bench.md").read().splitlines()
assert len(md) == 2 + len(rows) and md[0].startswith("| model |"), md[:3]
for name in ("prefill", "decode", "kv_cache"):
    b = open(f"{d}/{name}.png", "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", name
    assert int.from_bytes(b[16:20], "big") == 900 and int.from_bytes(b[20:24], "big") == 560
PY
grep -q "wrote .*decode.png" "$work/bench.out" || fail "$(cat "$work/bench.out")"
echo "bench_e2e: ok"
