// kiln vs llama.cpp on the same GGUF files: prompt processing of 512 tokens (pp512) and generation
// of 128 (tg128), as llama-bench measures them, for F32, F16, Q8_0 and Q4_0 weights of the
// SmolLM2-135M and Qwen3-0.6B shapes (random weights: speed does not depend on their values).
//
// kiln writes the files (`kiln quantize` from its presets, with a byte-level tokenizer so that
// llama.cpp accepts them). llama.cpp is the prebuilt libllama of node-llama-cpp (tests/node),
// CPU only, with the same thread count. kiln runs as `kiln generate --stats` in a child process
// (its maximum resident memory read by /usr/bin/time). Both: pp512 evaluates 512 prompt tokens
// in one batch; tg128 is 128 decode steps of one token each from an (almost) empty context.
// Best of --reps runs on each side, the two sides in turns. Prints a Markdown table.
//
// Usage: node bench/infer_vs_llamacpp.mjs --kiln build/release/apps/kiln/kiln [--threads 2]
//        [--shapes smollm2-135m,qwen3-0.6b] [--types f32,f16,q8_0,q4_0] [--reps 2] [--dir DIR]
//        [--node-modules tests/node/node_modules]
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { writeByteTokenizer } from "../tests/node/byte_tokenizer.mjs";

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const opt = (name, dflt = null) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const kiln = opt("kiln");
if (!kiln) {
  console.error("usage: infer_vs_llamacpp.mjs --kiln PATH [--threads N] [--shapes A,B] [--types T,...] [--reps N] [--dir DIR]");
  process.exit(2);
}
const threads = Number(opt("threads", "2"));
const shapes = opt("shapes", "smollm2-135m,qwen3-0.6b").split(",");
const types = opt("types", "f32,f16,q8_0,q4_0").split(",");
const reps = Number(opt("reps", "2"));
const dir = opt("dir", fs.mkdtempSync(path.join(os.tmpdir(), "kiln-infer-bench-")));
fs.mkdirSync(dir, { recursive: true });
const modules = opt("node-modules", path.join(repo, "tests", "node", "node_modules"));
const { getLlama } = await import(path.join(modules, "node-llama-cpp", "dist", "index.js"));

const tok = path.join(dir, "tokenizer.json");
writeByteTokenizer(tok);
// Prompt ids: printable bytes, as a text prompt would give.
const prompt = Array.from({ length: 512 }, (_, i) => 32 + ((i * 7) % 90));

function makeGguf(shape, type) {
  const file = path.join(dir, `${shape}-${type}.gguf`);
  if (fs.existsSync(file)) return file;
  // f32 is not a quantize type; it is the same conversion through `kiln convert`.
  const args = type === "f32"
    ? ["convert", "--model", shape, "--to", "gguf", "--type", "f32", "--out", file, "--tokenizer", tok]
    : ["quantize", "--model", shape, "--type", type, "--out", file, "--tokenizer", tok];
  execFileSync(kiln, args, { stdio: ["ignore", "ignore", "inherit"] });
  return file;
}

function kilnRun(file, ids, maxTokens) {
  const args = ["-f", "%M", kiln, "--threads", String(threads), "generate", "--model", file,
                "--ids", ids.join(","), "--max-tokens", String(maxTokens), "--temperature", "0",
                "--ignore-eos", "--stats", "--prefill-chunk", "512", "--print-ids"];
  const r = spawnSync("/usr/bin/time", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`kiln generate failed: ${r.stderr}`);
  const m = /prefill [\d.]+ s \(([\d.]+) tok\/s\).*decode ([\d.]+) tok\/s/s.exec(r.stderr);
  if (!m) throw new Error(`no stats line in: ${r.stderr}`);
  const rssKiB = Number(r.stderr.trim().split("\n").pop());
  return { prefill: Number(m[1]), decode: Number(m[2]), rssMiB: rssKiB / 1024 };
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error", maxThreads: threads });

// One repetition on each side, taken in turns (kiln, llama.cpp, kiln, ...): this VM's memory
// bandwidth drifts by a third over minutes, and the best of interleaved runs gives both engines
// the same moments to hit their best.
async function bench(file) {
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const k = { pp: 0, tg: 0, rss: 0 }, l = { pp: 0, tg: 0 };
  for (let r = 0; r < reps; ++r) {
    k.pp = Math.max(k.pp, kilnRun(file, prompt, 1).prefill);
    const g = kilnRun(file, [prompt[0]], 128);
    k.tg = Math.max(k.tg, g.decode);
    k.rss = Math.max(k.rss, g.rssMiB);

    const context = await model.createContext({ contextSize: 1024, batchSize: 512, threads, sequences: 1 });
    // Both sides compute the logits of the last position and pick a token from them, as
    // llama-bench does and kiln generate must (evaluateWithoutGeneratingNewTokens asks llama.cpp
    // for no logits at all, which skips the output projection: a quarter of Qwen3-0.6B's bytes).
    const greedy = { generateNext: { token: true }, temperature: 0 };
    const seq = context.getSequence();
    let t0 = performance.now();
    await seq.controlledEvaluate(prompt.map((t, i) => (i + 1 === prompt.length ? [t, greedy] : t)));
    l.pp = Math.max(l.pp, prompt.length / ((performance.now() - t0) / 1000));
    await seq.clearHistory();
    // As llama-bench's tg: 128 single-token decode steps from an empty context, here as
    // node-llama-cpp generates text (one sampler, each step fed the token the last one picked).
    t0 = performance.now();
    let steps = 0;
    for await (const token of seq.evaluate([prompt[0]], { temperature: 0 })) {
      void token;
      if (++steps === 128) break;
    }
    l.tg = Math.max(l.tg, steps / ((performance.now() - t0) / 1000));
    await context.dispose();
  }
  await model.dispose();
  return { k, l };
}

const rows = [];
for (const shape of shapes) {
  for (const type of types) {
    const file = makeGguf(shape, type);
    const mib = fs.statSync(file).size / 1048576;
    const { k, l } = await bench(file);
    const row = { shape, type, mib, k, l };
    rows.push(row);
    console.error(`${shape} ${type}: kiln pp ${k.pp.toFixed(1)} tg ${k.tg.toFixed(1)} (RSS ${k.rss.toFixed(0)} MiB); llama.cpp pp ${l.pp.toFixed(1)} tg ${l.tg.toFixed(1)}`);
  }
}
const f = (x, d = 1) => x.toFixed(d);
console.log(`threads ${threads}, best of ${reps}; tok/s; ratio = kiln / llama.cpp`);
console.log("| shape | type | file MiB | kiln pp512 | llama.cpp pp512 | ratio | kiln tg128 | llama.cpp tg128 | ratio | kiln max RSS MiB (tg) | tg weight GB/s |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const { shape, type, mib, k, l } of rows)
  console.log(`| ${shape} | ${type} | ${f(mib, 0)} | ${f(k.pp)} | ${f(l.pp)} | ${f(k.pp / l.pp, 2)}× | ${f(k.tg)} | ${f(l.tg)} | ${f(k.tg / l.tg, 2)}× | ${f(k.rss, 0)} | ${f(k.tg * mib * 1048576 / 1e9, 1)} |`);
