#!/usr/bin/env bash
# Decode speed of `kiln generate` with and without --draft, one pair of runs per repetition, so
# the ratio is taken under the same machine load (docs/inference.md, "Measured speculative
# decoding"). usage: speculative_vs_target.sh KILN LABEL REPS DRAFT K GENERATE_ARGS...
set -euo pipefail
kiln=$1 label=$2 reps=$3 draft=$4 k=$5
shift 5
rate() { grep -o "decode [0-9.]* tok/s" | grep -o "[0-9.]*"; }
for r in $(seq "$reps"); do
  plain=$("$kiln" --threads 1 generate "$@" --stats 2>&1 >/dev/null | rate)
  out=$("$kiln" --threads 1 generate "$@" --draft "$draft" --draft-tokens "$k" --stats 2>&1 >/dev/null)
  spec=$(echo "$out" | rate)
  acc=$(echo "$out" | grep -o "([0-9.]* %)")
  per=$(echo "$out" | grep -o "[0-9.]* tok per target forward")
  echo "$label K=$k rep $r: plain $plain tok/s, speculative $spec tok/s," \
    "ratio $(python3 -c "print(round($spec / $plain, 2))"), accepted $acc, $per"
done
