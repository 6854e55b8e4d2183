#!/usr/bin/env bash
# `kiln serve` end to end: a tiny model with a real (byte-level BPE) tokenizer and a chat
# template, checked by Node's official openai client (tests/node/serve_check.mjs) and by Debian's
# chromium driving the web page (tests/node/serve_browser.mjs, screenshot in WORK).
# Usage: serve_e2e.sh KILN SOURCE_DIR WORK
set -euo pipefail
kiln=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
node_dir="$src/tests/node"
[ -d "$node_dir/node_modules/openai" ] || fail "tests/node/node_modules/openai missing: run scripts/setup"

# The model: tests/infer/data/tiny-bytes.yaml (random weights), the byte tokenizer of
# configs/tokenizers/shakespeare-bytes with a chat template added.
tokdir="$src/configs/tokenizers/shakespeare-bytes"
mkdir -p "$work/tok"
cp "$tokdir/tokenizer.json" "$work/tok/"
python3 - "$tokdir/tokenizer_config.json" "$work/tok/tokenizer_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["chat_template"] = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                      "{% if add_generation_prompt %}assistant:{% endif %}")
json.dump(c, open(sys.argv[2], "w"))
PY

# Starts the server on a free port (--port 0) and waits for its "listening" line.
start_server() {  # NAME ARGS...: sets pid and url
  local name=$1
  shift
  mkfifo "$work/$name.fifo"
  "$kiln" --threads 2 serve --model "$src/tests/infer/data/tiny-bytes.yaml" --tokenizer "$work/tok" \
    --name tiny --port 0 --max-batch 32 "$@" >"$work/$name.fifo" 2>"$work/$name.err" &
  pid=$!
  exec 3<"$work/$name.fifo"
  local line=""
  read -r -t 120 line <&3 || fail "$name: no 'listening' line: $(cat "$work/$name.err")"
  cat <&3 >"$work/$name.out" &
  exec 3<&-
  url=$(echo "$line" | grep -o 'http://[0-9.]*:[0-9]*') || fail "$name: unexpected first line: $line"
  echo "$name: $line"
}

stop_server() {  # NAME: SIGTERM, then the process must end cleanly
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$1 exited with $rc: $(cat "$work/$1.err")"
  grep -q "shutting down" "$work/$1.err" || fail "$1: no shutdown message"
}

start_server api --api-key sekrit --max-queue 64
trap 'kill $pid 2>/dev/null || true' EXIT
(cd "$node_dir" && KILN_URL="$url" KILN_KEY=sekrit node serve_check.mjs) || fail "openai client checks"
stop_server api

start_server web
(cd "$node_dir" && KILN_URL="$url" SHOT="$work/chat.png" node serve_browser.mjs) || fail "browser"
[ -s "$work/chat.png" ] || fail "no screenshot"
# Graceful shutdown: a stream in flight when SIGTERM arrives still ends with [DONE].
mkfifo "$work/inflight.fifo"
curl -sN "$url/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt":"ROMEO:","max_tokens":200,"ignore_eos":true,"stream":true}' >"$work/inflight.fifo" &
curl_pid=$!
exec 4<"$work/inflight.fifo"
read -r -t 60 first <&4 || fail "no first event from the in-flight stream"
stop_server web
cat <&4 >"$work/inflight.txt"
exec 4<&-
wait "$curl_pid" || fail "the in-flight stream's connection failed"
tail -n 2 "$work/inflight.txt" | grep -q '^data: \[DONE\]$' || fail "in-flight stream cut: $(tail -c 300 "$work/inflight.txt")"

trap - EXIT
echo "serve e2e: ok (screenshot $work/chat.png)"
