// Encode throughput of transformers.js (@lenml/tokenizers) measured as tokenizer_bench.cpp
// does: documents split at blank lines, the first tenth to warm up (and JIT-compile), the
// other nine tenths encoded once and timed. Prints one JSON line.
//
// Usage: node bench/tokenizer_bench.mjs MODEL_DIR TEXT_FILE   (MODEL_DIR holds tokenizer.json)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const { TokenizerLoader } = await import(
  path.join(repo, "tests/node/node_modules/@lenml/tokenizers/dist/main.mjs"));
const [dir, file] = process.argv.slice(2);
const t0 = performance.now();
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
});
const loadS = (performance.now() - t0) / 1000;
const text = fs.readFileSync(file, "utf8");
const docs = [];
for (let i = 0; i < text.length;) {
  let end = text.indexOf("\n\n", i);
  end = end < 0 ? text.length : end + 2;
  docs.push(text.slice(i, end));
  i = end;
}
const warm = Math.floor(docs.length / 10);
let tokens = 0;
const encode = (from, to) => {
  for (let i = from; i < to; ++i) tokens += tok.encode(docs[i], { add_special_tokens: false }).length;
};
encode(0, warm);
const cpu0 = process.cpuUsage();
const start = performance.now();
encode(warm, docs.length);
const secs = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSecs = (cpu.user + cpu.system) / 1e6;
let bytes = 0;
for (let i = warm; i < docs.length; ++i) bytes += Buffer.byteLength(docs[i], "utf8");
console.log(JSON.stringify({ engine: "transformers.js", threads: 1, timed_bytes: bytes, docs: docs.length,
  tokens, seconds: +secs.toFixed(4), mb_per_s: +(bytes / 1e6 / secs).toFixed(2), cpu_seconds: +cpuSecs.toFixed(4),
  mb_per_cpu_s: +(bytes / 1e6 / cpuSecs).toFixed(2), load_s: +loadS.toFixed(3) }));
