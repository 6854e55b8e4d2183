#pragma once
// Writing a tokenizer.json's vocabulary as the tokenizer.ggml.* keys of a GGUF file, as
// llama.cpp's converter lays them out, so llama.cpp (and Tokenizer::from_gguf) tokenize as the
// original does. Byte-level BPE only (GPT-2, Llama-3, Qwen2/Qwen3 pre-tokenizers).
#include <cstdint>
#include <string>

namespace kiln::io {
class GGUFWriter;
}

namespace kiln::tokenizer {

// `path`: a tokenizer.json or a folder holding one (tokenizer_config.json beside it gives BOS,
// EOS, add_bos and the chat template). The token list is padded to `n_vocab` entries (the
// model's embedding rows) with unused "[PAD<id>]" tokens, as llama.cpp requires one token per
// row. Throws kiln::Error naming the file and what it cannot express.
void write_gguf_vocab(const std::string& path, int64_t n_vocab, io::GGUFWriter& w);

}  // namespace kiln::tokenizer
