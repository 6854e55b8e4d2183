// Writes the tokenizer_fuzz starting corpus: the small tokenizers' tokenizer.json, a slice of
// the trained-tokenizer format, texts in many scripts (and a piece of Shakespeare), id runs, and
// chat templates.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kiln/tokenizer/train_bpe.h"
#include "tokenizer_fuzz_inputs.h"

namespace {

void write(const std::string& dir, const std::string& name, kiln::fuzz::Mode mode,
           const std::string& payload) {
  std::ofstream f(std::filesystem::path(dir) / name, std::ios::binary);
  f.put(char(mode));
  f.write(payload.data(), std::streamsize(payload.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SHARED_DATA_DIR\n", argv[0]);
    return 2;
  }
  std::string out = argv[1], data = argv[2];
  std::filesystem::create_directories(out);
  using kiln::fuzz::Mode;
  write(out, "spm.json", Mode::kTokenizerJson, kiln::fuzz::spm_tokenizer_json());
  kiln::tokenizer::BpeTrainOptions o;
  o.vocab_size = 300;
  o.special = {"<|im_end|>"};
  o.progress = false;
  o.min_frequency = 1;
  kiln::tokenizer::BpeTrainer t(o);
  t.add_text("hello hello world world world <|im_end|>");
  t.train();
  write(out, "bytelevel.json", Mode::kTokenizerJson, t.tokenizer_json());
  std::vector<std::string> texts = {"Hello world!  It's  3.14159\ttabs\n\nnew",
                                    "你好世界 🤗 <|im_start|>hi<|im_end|>",
                                    "Привет, мир! مرحبا שלום नमस्ते",
                                    "e\u0301 \u212b \ufb01 \u0085 \ufeff it'\u017f",
                                    "   \n\n\t  x",
                                    "<s> </s> <think>x</think>",
                                    std::string("bad \xff\xfe utf8 \xe4\xbd"),
                                    "1234567890 ½ ٣"};
  std::ifstream shakespeare(data + "/tinyshakespeare.txt", std::ios::binary);
  std::string play(std::istreambuf_iterator<char>(shakespeare), {});
  texts.push_back(play.substr(0, 2000));
  for (size_t i = 0; i < texts.size(); ++i)
    write(out, "text" + std::to_string(i), Mode::kEncodeText, texts[i]);
  std::string ids;
  for (uint32_t id : {1u, 5u, 100u, 300u, 259u, 2u, 4000000000u, 7u})
    ids.append(reinterpret_cast<const char*>(&id), 4);
  write(out, "ids", Mode::kDecodeIds, ids);
  write(out, "template0", Mode::kChatTemplate, kiln::fuzz::kFuzzTemplate);
  write(
      out, "template1", Mode::kChatTemplate,
      "{% for m in messages[::-1] %}{{ m.content.split('</think>')[-1] | tojson }}"
      "{% if m.tool_calls %}{{ m.tool_calls[0].function.arguments | tojson(indent=2) }}{% endif %}"
      "{% endfor %}{{ bos_token ~ (1 + 2 * 3) ~ 'x'.upper() }}{% if enable_thinking is false %}"
      "off{% endif %}");
  return 0;
}
