// Fuzzes the tokenizer: loading tokenizer.json files, encoding arbitrary bytes, decoding and
// stream-decoding arbitrary ids, and parsing and rendering chat templates. Each must either
// work or throw kiln::Error: no crash, no read out of bounds (ASan), no other exception.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kiln/core/error.h"
#include "kiln/tokenizer/chat_template.h"
#include "kiln/tokenizer/tokenizer.h"
#include "kiln/tokenizer/train_bpe.h"
#include "tokenizer_fuzz_inputs.h"

using kiln::tokenizer::StreamDecoder;
using kiln::tokenizer::Tokenizer;

namespace {

const Tokenizer& byte_level() {
  static const Tokenizer t = [] {
    kiln::tokenizer::BpeTrainOptions o;
    o.vocab_size = 400;
    o.special = {"<|im_start|>", "<|im_end|>", "<think>"};
    o.progress = false;
    o.min_frequency = 1;
    kiln::tokenizer::BpeTrainer trainer(o);
    trainer.add_text(
        "the quick brown fox jumps over the lazy dog 0123456789 héllo wörld 中文 😀 "
        "It's, they're!\n\tcode(x) { return a->b; }");
    trainer.train();
    return trainer.tokenizer();
  }();
  return t;
}

const Tokenizer& spm() {
  static const Tokenizer t = Tokenizer::from_json(kiln::fuzz::spm_tokenizer_json());
  return t;
}

void exercise(const Tokenizer& t, std::string_view text) {
  std::vector<int32_t> ids;
  try {
    ids = t.encode(text, true);
  } catch (const kiln::Error&) {  // invalid UTF-8, or a character the vocabulary cannot hold
    return;
  }
  std::string back = t.decode(ids);
  StreamDecoder d(t, true);
  for (int32_t id : ids) back += d.push(id);
  back += d.finish();
}

void decode_ids(const Tokenizer& t, const std::vector<int32_t>& ids) {
  try {
    (void)t.decode(ids, ids.size() % 2 == 0);
  } catch (const kiln::Error&) {  // an unknown id
  }
  StreamDecoder d(t, ids.size() % 3 == 0);
  try {
    for (int32_t id : ids) (void)d.push(id);
    (void)d.finish();
  } catch (const kiln::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % kiln::fuzz::kModes) {
    case kiln::fuzz::kTokenizerJson:
      try {
        Tokenizer t = Tokenizer::from_json(payload);
        exercise(t, "Hello world! héllo 中文 😀 <|im_end|>\n\t 123");
        decode_ids(t, {0, 1, 2, t.vocab_size() - 1, t.vocab_size()});
      } catch (const kiln::Error&) {
      }
      break;
    case kiln::fuzz::kEncodeText:
      exercise(byte_level(), payload);
      exercise(spm(), payload);
      break;
    case kiln::fuzz::kDecodeIds: {
      std::vector<int32_t> ids(payload.size() / 4);
      if (!ids.empty()) std::memcpy(ids.data(), payload.data(), ids.size() * 4);
      for (int32_t& id : ids) id = int32_t(uint32_t(id) % 512) - 8;  // mostly valid, some not
      decode_ids(byte_level(), ids);
      decode_ids(spm(), ids);
      break;
    }
    case kiln::fuzz::kChatTemplate:
      try {
        kiln::tokenizer::ChatTemplate tpl{std::string(payload)};
        auto messages = nlohmann::ordered_json::parse(
            R"([{"role": "system", "content": " s "}, {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "<think>x</think>y", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}])");
        kiln::tokenizer::ChatOptions o;
        o.add_generation_prompt = true;
        o.enable_thinking = false;
        (void)tpl.apply(messages, {"<s>", "</s>", "", ""}, o);
      } catch (const kiln::Error&) {
      }
      break;
  }
  return 0;
}
