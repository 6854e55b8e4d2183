// A byte-level BPE tokenizer.json with no merges, which kiln and llama.cpp both read: the GGUF
// cross-check and the benchmarks that put the two side by side write it into the GGUF files they
// share (the GGUF writer pads the vocabulary to the model's size). `bytes` tokens: ids 0..bytes-1 are those bytes;
// 128 keeps every generated token ASCII, so random models give valid UTF-8 text.
// Usage from a script: writeByteTokenizer(file[, bytes]); from the shell: node byte_tokenizer.mjs
// FILE [BYTES]
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export function writeByteTokenizer(file, bytes = 256) {
  const direct = [];
  for (let b = 33; b <= 126; ++b) direct.push(b);
  for (let b = 161; b <= 172; ++b) direct.push(b);
  for (let b = 174; b <= 255; ++b) direct.push(b);
  const vocab = {};
  let extra = 0;
  for (let b = 0; b < 256; ++b) {
    const ch = String.fromCodePoint(direct.includes(b) ? b : 256 + extra++);
    if (b < bytes) vocab[ch] = b;
  }
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(file, JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: bl, post_processor: null, decoder: bl,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null,
             end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
             vocab, merges: [] },
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  writeByteTokenizer(process.argv[2], Number(process.argv[3] || 256));
