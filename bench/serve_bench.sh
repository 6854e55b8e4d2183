#!/usr/bin/env bash
# Serving benchmark: starts `kiln serve` on bench/serve_model.yaml (random weights, SmolLM2-135M
# shape) and runs bench/serve_bench.mjs at 1, 8, 32 and 64 concurrent streams.
# Usage: bench/serve_bench.sh KILN [THREADS] [MAX_TOKENS] [LEVELS]
# bench/serve_vs_llamaserver.sh runs the same levels against kiln and llama.cpp's llama-server on
# one GGUF file.
set -euo pipefail
kiln=$1 threads=${2:-2} max_tokens=${3:-64} levels=${4:-1,8,32,64}
src="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
mkfifo "$work/out"
"$kiln" --threads "$threads" serve --model "$src/bench/serve_model.yaml" \
  --tokenizer "$src/configs/tokenizers/shakespeare-bytes" --port 0 --max-batch 64 \
  --max-queue 256 >"$work/out" 2>"$work/err" &
pid=$!
exec 3<"$work/out"
read -r -t 300 line <&3 || { cat "$work/err"; exit 1; }
url=$(echo "$line" | grep -o 'http://[0-9.]*:[0-9]*')
echo "# $line; threads $threads; commit $(git -C "$src" rev-parse --short HEAD); $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
node "$src/bench/serve_bench.mjs" "$url" "$max_tokens" "$levels"
