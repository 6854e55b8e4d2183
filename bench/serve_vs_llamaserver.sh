#!/usr/bin/env bash
# kiln serve beside llama.cpp's llama-server on one GGUF file: serve_bench.sh's model
# (bench/serve_model.yaml: SmolLM2-135M's shape, random f32 weights) with a 128-token ASCII
# vocabulary (llama-server refuses to stream invalid UTF-8, which a random model over all 256
# bytes produces), converted with a byte-level tokenizer both read (tests/node/byte_tokenizer.mjs),
# each server on the same thread count with up to
# 64 sequences at once (llama-server: --parallel 64, 256 context tokens per slot), then
# bench/serve_bench.mjs against each at each concurrency. Prints a Markdown table.
# llama-server is built beside the project, never in it. Usage:
#   bench/serve_vs_llamaserver.sh KILN LLAMA_SERVER [THREADS] [MAX_TOKENS] [LEVELS]
set -euo pipefail
kiln=$1 llama=$2 threads=${3:-2} max_tokens=${4:-64} levels=${5:-1,8,32,64}
src="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
mkdir -p "$work/tok"
node "$src/tests/node/byte_tokenizer.mjs" "$work/tok/tokenizer.json" 128
sed 's/^vocab_size: .*/vocab_size: 128/' "$src/bench/serve_model.yaml" >"$work/model.yaml"
"$kiln" convert --model "$work/model.yaml" --to gguf --type f32 --out "$work/model.gguf" \
  --tokenizer "$work/tok/tokenizer.json" >/dev/null

# kiln prints its address once it listens.
mkfifo "$work/kiln.out"
"$kiln" --threads "$threads" serve --model "$work/model.gguf" --tokenizer "$work/tok" --port 0 \
  --max-batch 64 --max-queue 256 >"$work/kiln.out" 2>"$work/kiln.err" &
pids+=($!)
exec 3<"$work/kiln.out"
read -r -t 300 line <&3 || { cat "$work/kiln.err"; exit 1; }
kiln_url=$(echo "$line" | grep -o 'http://[0-9.]*:[0-9]*')

port=$((20000 + RANDOM % 20000))
"$llama" -m "$work/model.gguf" --host 127.0.0.1 --port "$port" -t "$threads" -tb "$threads" \
  --parallel 64 -c $((64 * 256)) >"$work/llama.log" 2>&1 &
pids+=($!)
llama_url="http://127.0.0.1:$port"
for _ in $(seq 600); do  # llama-server answers /health with 200 once the model is loaded
  curl -sf "$llama_url/health" >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -20 "$work/llama.log"; exit 1; }
  sleep 0.1
done

echo "# commit $(git -C "$src" rev-parse --short HEAD); threads $threads; $max_tokens tokens per" \
  "stream; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load $(cut -d' ' -f1-3 /proc/loadavg)"
# One server at a time, so each has the cores to itself.
node "$src/bench/serve_bench.mjs" "$kiln_url" "$max_tokens" "$levels" >"$work/kiln.jsonl"
node "$src/bench/serve_bench.mjs" "$llama_url" "$max_tokens" "$levels" >"$work/llama.jsonl"
python3 - "$work/kiln.jsonl" "$work/llama.jsonl" <<'PY'
import json, sys
k = [json.loads(l) for l in open(sys.argv[1])]
l = [json.loads(x) for x in open(sys.argv[2])]
print("| streams | kiln tok/s | llama-server tok/s | ratio | kiln TTFT s | llama TTFT s | kiln TPOT ms | llama TPOT ms |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for a, b in zip(k, l):
    r = a["tokens_per_s"] / b["tokens_per_s"] if b["tokens_per_s"] else float("nan")
    print(f"| {a['concurrency']} | {a['tokens_per_s']:.1f} | {b['tokens_per_s']:.1f} | {r:.2f}x | "
          f"{a['ttft_s']:.3f} | {b['ttft_s']:.3f} | {a['tpot_ms']:.1f} | {b['tpot_ms']:.1f} |")
for a, b in zip(k, l):
    if a["tokens"] != b["tokens"]:
        print(f"note: at {a['concurrency']} streams kiln generated {a['tokens']} tokens, llama-server {b['tokens']}")
PY
