// Aggregate throughput and latency of an OpenAI-compatible server at several concurrencies.
// Usage: node serve_bench.mjs URL [MAX_TOKENS] [CONCURRENCIES, e.g. 1,8,32,64]
// Each stream asks for MAX_TOKENS tokens (ignore_eos) at temperature 0 with a short distinct
// prompt; per level: total generated tokens / wall time, mean time to first token, and mean time
// per output token after the first (per stream). One JSON line per level.
const [url, maxTokensArg, levelsArg] = process.argv.slice(2);
const maxTokens = Number(maxTokensArg || 64);
const levels = (levelsArg || "1,8,32,64").split(",").map(Number);

async function stream(i) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: `Stream ${i}: once upon a time`, max_tokens: maxTokens, temperature: 0,
      ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let first = 0, usage = -1, chunks = 0, buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, cut).replace(/^data: /, "");
      buf = buf.slice(cut + 2);
      if (ev === "[DONE]") continue;
      const j = JSON.parse(ev);
      if (j.usage) usage = j.usage.completion_tokens;
      else if (j.timings?.predicted_n !== undefined) usage = j.timings.predicted_n;  // llama-server
      const c = j.choices?.[0];
      if (c?.text) {  // a chunk of generated text (a server that sends no usage: one token each)
        chunks += 1;
        if (!first) first = performance.now();
      }
    }
  }
  const end = performance.now();
  const tokens = usage >= 0 ? usage : chunks;
  return { ttft: (first - t0) / 1000, tpot: tokens > 1 ? (end - first) / 1000 / (tokens - 1) : 0, tokens };
}

await stream(-1); // warm-up
for (const n of levels) {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => stream(i)));
  const secs = (performance.now() - t0) / 1000;
  const tokens = rs.reduce((a, r) => a + r.tokens, 0);
  const mean = (k) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
  console.log(JSON.stringify({ concurrency: n, tokens, seconds: +secs.toFixed(3), tokens_per_s: +(tokens / secs).toFixed(2),
    ttft_s: +mean("ttft").toFixed(3), tpot_ms: +(1000 * mean("tpot")).toFixed(2) }));
}
