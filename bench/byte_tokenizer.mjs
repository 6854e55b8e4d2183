// A byte-level BPE tokenizer.json of 256 tokens and no merges, which kiln and llama.cpp both read:
// the benchmarks that put the two side by side write it into the GGUF files they share (the GGUF
// writer pads the vocabulary to the model's size).
// Usage from a script: writeByteTokenizer(file); from the shell: node byte_tokenizer.mjs FILE
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export function writeByteTokenizer(file) {
  const direct = [];
  for (let b = 33; b <= 126; ++b) direct.push(b);
  for (let b = 161; b <= 172; ++b) direct.push(b);
  for (let b = 174; b <= 255; ++b) direct.push(b);
  const vocab = {};
  let extra = 0;
  for (let b = 0; b < 256; ++b) vocab[String.fromCodePoint(direct.includes(b) ? b : 256 + extra++)] = b;
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(file, JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: bl, post_processor: null, decoder: bl,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null,
             end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
             vocab, merges: [] },
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeByteTokenizer(process.argv[2]);
