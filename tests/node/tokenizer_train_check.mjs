// Trains a tokenizer with `kiln tokenizer train` (on Shakespeare plus a multilingual corpus),
// loads the tokenizer.json and tokenizer_config.json it writes with transformers.js
// (@lenml/tokenizers), and requires: the vocabulary size asked for, the special tokens at the
// ids kiln reports, identical encodings and decodings of the test corpus, and the written chat
// template rendering the same in @huggingface/jinja and in kiln.
//
// Usage: node tokenizer_train_check.mjs --kiln PATH --shakespeare PATH
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { makeCorpus } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : null;
};
const kiln = opt("kiln");
const shakespeare = opt("shakespeare");
if (!kiln || !shakespeare) {
  console.error("usage: tokenizer_train_check.mjs --kiln PATH --shakespeare PATH");
  process.exit(2);
}
if (!fs.existsSync(path.join(here, "node_modules", "@lenml", "tokenizers"))) {
  console.error(`FAIL: ${here}/node_modules is missing; run scripts/setup (npm ci in tests/node)`);
  process.exit(1);
}
const { TokenizerLoader } = await import("@lenml/tokenizers");
const { Template } = await import("@huggingface/jinja");

const specials = ["<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|endoftext|>"];
const vocabSize = 3000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-train-"));
const multilingual = path.join(tmp, "multilingual.txt");
fs.writeFileSync(multilingual, makeCorpus({ seed: 99, specials, size: 1500 }).join("\n"));
const out = path.join(tmp, "tok");
execFileSync(kiln, ["tokenizer", "train", "--vocab-size", String(vocabSize), "--special", specials.join(","),
  "-q", "-o", out, shakespeare, multilingual], { stdio: ["ignore", "ignore", "inherit"] });

let failures = 0;
const fail = (msg) => { if (++failures <= 8) console.error(`MISMATCH ${msg}`); };
const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(out, "tokenizer_config.json"), "utf8"));
const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });

if (tok.model.vocab.length !== vocabSize) fail(`vocabulary has ${tok.model.vocab.length} tokens, asked ${vocabSize}`);
specials.forEach((s, i) => {
  const id = tok.model.tokens_to_ids.get(s);
  if (id !== vocabSize - specials.length + i) fail(`special ${s} has id ${id}`);
});

const corpus = makeCorpus({ seed: 5, specials, shakespeare, size: 2000 });
const corpusFile = path.join(tmp, "corpus.jsonl");
fs.writeFileSync(corpusFile, corpus.map((s) => JSON.stringify(s)).join("\n") + "\n");
const got = execFileSync(kiln, ["tokenize", "--tokenizer", out, "--jsonl", corpusFile], { encoding: "utf8", maxBuffer: 1 << 30 })
  .trimEnd().split("\n").map((l) => JSON.parse(l));
const ids = [];
corpus.forEach((s, i) => {
  const want = tok.encode(s, { add_special_tokens: false });
  ids.push(want);
  if (JSON.stringify(want) !== JSON.stringify(got[i])) fail(`encode #${i} ${JSON.stringify(s).slice(0, 80)}`);
});
const idsFile = path.join(tmp, "ids.jsonl");
const nonEmpty = ids.filter((x) => x.length);
fs.writeFileSync(idsFile, nonEmpty.map((x) => JSON.stringify(x)).join("\n") + "\n");
const texts = execFileSync(kiln, ["detokenize", "--tokenizer", out, "--jsonl", idsFile], { encoding: "utf8", maxBuffer: 1 << 30 })
  .trimEnd().split("\n").map((l) => JSON.parse(l));
nonEmpty.forEach((x, i) => {
  if (tok.decode(x) !== texts[i]) fail(`decode #${i}`);
});

const messages = [{ role: "user", content: "Who art thou?" }, { role: "assistant", content: "A player." },
  { role: "user", content: "Speak!" }];
const msgFile = path.join(tmp, "messages.json");
fs.writeFileSync(msgFile, JSON.stringify(messages));
const template = new Template(tokenizerConfig.chat_template);
for (const thinking of [true, false]) {
  const want = template.render({ messages, add_generation_prompt: true, enable_thinking: thinking,
    eos_token: tokenizerConfig.eos_token, pad_token: tokenizerConfig.pad_token, tools: null, documents: null });
  const rendered = execFileSync(kiln, ["chat-template", "--tokenizer", out, "--messages", msgFile,
    "--add-generation-prompt", "--thinking", thinking ? "on" : "off"], { encoding: "utf8" });
  if (want !== rendered) fail(`chat template thinking=${thinking}`);
}

fs.rmSync(tmp, { recursive: true, force: true });
if (failures) {
  console.error(`FAIL: ${failures} mismatches`);
  process.exit(1);
}
console.log(`OK: transformers.js loads the kiln-trained tokenizer (${vocabSize} tokens, ${specials.length} ` +
  `special); ${corpus.length} encodings and ${nonEmpty.length} decodings equal; chat template renders equal`);
