#include "kiln/infer/model_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"

namespace kiln::infer {

namespace fs = std::filesystem;

std::optional<tokenizer::Tokenizer> model_tokenizer(const std::string& model,
                                                    const std::string& tokenizer) {
  if (!tokenizer.empty()) return tokenizer::Tokenizer::load(tokenizer);
  if (fs::is_regular_file(fs::path(model) / "tokenizer.json"))
    return tokenizer::Tokenizer::load(model);
  return std::nullopt;
}

std::vector<int32_t> stop_token_ids(const std::string& model, const models::ModelConfig& c,
                                    const tokenizer::Tokenizer* tok) {
  std::vector<int32_t> ids;
  auto add = [&](int64_t id) {
    if (id >= 0 && id < c.vocab_size && std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(int32_t(id));
  };
  fs::path gen = fs::path(model) / "generation_config.json";
  if (fs::is_regular_file(gen)) {
    std::ifstream f(gen);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(f), {}));
    } catch (const nlohmann::json::exception& e) {
      throw Error(str(gen.string(), ": not valid JSON: ", e.what()));
    }
    const nlohmann::json& e = j.contains("eos_token_id") ? j["eos_token_id"] : nlohmann::json();
    KILN_REQUIRE(e.is_null() || e.is_number_integer() || e.is_array(), gen.string(),
                 ": eos_token_id is ", e.type_name(), ", expected an integer or a list");
    if (e.is_number_integer()) add(e.get<int64_t>());
    if (e.is_array())
      for (const auto& x : e) {
        KILN_REQUIRE(x.is_number_integer(), gen.string(), ": eos_token_id holds ", x.dump(),
                     ", expected integers");
        add(x.get<int64_t>());
      }
  }
  for (int64_t id : c.eos_token_ids) add(id);
  if (tok && tok->eos_id()) add(*tok->eos_id());
  return ids;
}

}  // namespace kiln::infer
