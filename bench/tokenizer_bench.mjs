// Encode throughput of transformers.js (@lenml/tokenizers) on the same documents as
// tokenizer_bench.cpp: the text split at blank lines, one warm-up pass, then at least two
// seconds of passes. Prints one JSON line.
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
const bytes = Buffer.byteLength(text, "utf8");
const docs = [];
for (let i = 0; i < text.length;) {
  let end = text.indexOf("\n\n", i);
  end = end < 0 ? text.length : end + 2;
  docs.push(text.slice(i, end));
  i = end;
}
let tokens = 0;
const pass = () => {
  tokens = 0;
  for (const d of docs) tokens += tok.encode(d, { add_special_tokens: false }).length;
};
pass();
let passes = 0;
const start = performance.now();
let secs = 0;
while (secs < 2 || passes < 2) {
  pass();
  ++passes;
  secs = (performance.now() - start) / 1000;
}
console.log(JSON.stringify({ engine: "transformers.js", threads: 1, bytes, docs: docs.length, tokens,
  passes, seconds: +secs.toFixed(3), mb_per_s: +((bytes * passes) / 1e6 / secs).toFixed(2), load_s: +loadS.toFixed(3) }));
