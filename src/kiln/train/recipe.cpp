#include "kiln/train/recipe.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>

#include "kiln/core/device.h"
#include "kiln/core/error.h"

namespace kiln::train {

namespace {

// One setter per key: parses a YAML node into the recipe, naming the key on a type error.
using Setter = std::function<void(Recipe&, const YAML::Node&, const std::string& key)>;

template <class T>
T as(const YAML::Node& n, const std::string& key, const char* type) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    throw Error(str("recipe: key '", key, "' must be ", type, ", got '", YAML::Dump(n), "'"));
  }
}

template <class T>
Setter field(T Recipe::*m, const char* type) {
  return [m, type](Recipe& r, const YAML::Node& n, const std::string& key) {
    r.*m = as<T>(n, key, type);
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> s = {
      {"model", field(&Recipe::model, "a string")},
      {"data",
       [](Recipe& r, const YAML::Node& n, const std::string& key) {
         r.data_files = n.IsSequence()
                            ? as<std::vector<std::string>>(n, key, "a list of files")
                            : std::vector<std::string>{as<std::string>(n, key, "a file")};
       }},
      {"tokenizer", field(&Recipe::tokenizer, "a path")},
      {"tokenizer_vocab", field(&Recipe::tokenizer_vocab, "an integer")},
      {"val_fraction", field(&Recipe::val_fraction, "a number")},
      {"doc_masking", field(&Recipe::doc_masking, "true or false")},
      {"seq_len", field(&Recipe::seq_len, "an integer")},
      {"batch_size", field(&Recipe::batch_size, "an integer")},
      {"grad_accum", field(&Recipe::grad_accum, "an integer")},
      {"steps", field(&Recipe::steps, "an integer")},
      {"optimizer", field(&Recipe::optimizer, "adamw, sgd or muon")},
      {"lr", [](Recipe& r, const YAML::Node& n,
                const std::string& k) { r.schedule.lr = as<double>(n, k, "a number"); }},
      {"min_lr", [](Recipe& r, const YAML::Node& n,
                    const std::string& k) { r.schedule.min_lr = as<double>(n, k, "a number"); }},
      {"warmup", [](Recipe& r, const YAML::Node& n,
                    const std::string& k) { r.schedule.warmup = as<int64_t>(n, k, "an integer"); }},
      {"schedule",
       [](Recipe& r, const YAML::Node& n, const std::string& k) {
         r.schedule.kind = as<std::string>(n, k, "a schedule name");
       }},
      {"decay_fraction",
       [](Recipe& r, const YAML::Node& n, const std::string& k) {
         r.schedule.decay_fraction = as<double>(n, k, "a number");
       }},
      {"cycle", [](Recipe& r, const YAML::Node& n,
                   const std::string& k) { r.schedule.cycle = as<int64_t>(n, k, "an integer"); }},
      {"weight_decay", field(&Recipe::weight_decay, "a number")},
      {"beta1", field(&Recipe::beta1, "a number")},
      {"beta2", field(&Recipe::beta2, "a number")},
      {"eps", field(&Recipe::eps, "a number")},
      {"momentum", field(&Recipe::momentum, "a number")},
      {"clip_grad", field(&Recipe::clip_grad, "a number")},
      {"grad_checkpointing", field(&Recipe::grad_checkpointing, "none, all or attention")},
      {"grad_checkpointing_every", field(&Recipe::grad_checkpointing_every, "an integer")},
      {"precision", field(&Recipe::precision, "f32 or bf16")},
      {"device", field(&Recipe::device, "cpu, cuda or cuda:N")},
      {"label_smoothing", field(&Recipe::label_smoothing, "a number")},
      {"z_loss", field(&Recipe::z_loss, "a number")},
      {"focal_gamma", field(&Recipe::focal_gamma, "a number")},
      {"seed", field(&Recipe::seed, "a non-negative integer")},
      {"log_every", field(&Recipe::log_every, "an integer")},
      {"eval_every", field(&Recipe::eval_every, "an integer")},
      {"eval_batches", field(&Recipe::eval_batches, "an integer")},
      {"sample_every", field(&Recipe::sample_every, "an integer")},
      {"sample_tokens", field(&Recipe::sample_tokens, "an integer")},
      {"sample_prompt", field(&Recipe::sample_prompt, "a string")},
      {"sample_temperature", field(&Recipe::sample_temperature, "a number")},
      {"checkpoint_every", field(&Recipe::checkpoint_every, "an integer")},
      {"keep_checkpoints", field(&Recipe::keep_checkpoints, "an integer")},
      {"out_dir", field(&Recipe::out_dir, "a path")},
  };
  return s;
}

void set(Recipe& r, const std::string& key, const YAML::Node& value) {
  auto it = setters().find(key);
  if (it == setters().end()) {
    std::string known;
    for (auto& [k, _] : setters()) known += (known.empty() ? "" : ", ") + k;
    throw Error(str("recipe: unknown key '", key, "' (known keys: ", known, ")"));
  }
  it->second(r, value, key);
}

}  // namespace

Recipe Recipe::load(const std::string& path, const std::vector<std::string>& overrides) {
  Recipe r;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(str("recipe: cannot read '", path, "'"));
  } catch (const YAML::Exception& e) {
    throw Error(str("recipe: '", path, "' is not valid YAML: ", e.what()));
  }
  KILN_REQUIRE(root.IsMap(), "recipe: '", path, "' must be a map of keys");
  for (auto it = root.begin(); it != root.end(); ++it)
    set(r, it->first.as<std::string>(), it->second);
  for (const std::string& o : overrides) {
    auto eq = o.find('=');
    KILN_REQUIRE(eq != std::string::npos && eq > 0, "recipe override '", o,
                 "' is not of the form key=value");
    YAML::Node v;
    try {
      v = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      throw Error(str("recipe override '", o, "': ", e.what()));
    }
    set(r, o.substr(0, eq), v);
  }
  r.schedule.total = r.steps;
  return r;
}

void Recipe::validate() const {
  auto positive = [](int64_t v, const char* key) {
    KILN_REQUIRE(v >= 1, "recipe: '", key, "' must be at least 1, got ", v);
  };
  positive(seq_len, "seq_len");
  positive(batch_size, "batch_size");
  positive(grad_accum, "grad_accum");
  positive(steps, "steps");
  positive(log_every, "log_every");
  positive(eval_every, "eval_every");
  positive(eval_batches, "eval_batches");
  positive(checkpoint_every, "checkpoint_every");
  positive(keep_checkpoints, "keep_checkpoints");
  positive(grad_checkpointing_every, "grad_checkpointing_every");
  try {
    kiln::Device::parse(device);
  } catch (const Error&) {
    throw Error(str("recipe: 'device' must be cpu, cuda or cuda:N, got '", device, "'"));
  }
  KILN_REQUIRE(precision == "f32" || precision == "bf16",
               "recipe: 'precision' must be f32 or bf16, got '", precision, "'");
  KILN_REQUIRE(grad_checkpointing == "none" || grad_checkpointing == "all" ||
                   grad_checkpointing == "attention",
               "recipe: 'grad_checkpointing' must be none, all or attention, got '",
               grad_checkpointing, "'");
  KILN_REQUIRE(optimizer == "adamw" || optimizer == "sgd" || optimizer == "muon",
               "recipe: 'optimizer' must be adamw, sgd or muon, got '", optimizer, "'");
  KILN_REQUIRE(!data_files.empty(), "recipe: 'data' names no file");
  for (const std::string& f : data_files)
    KILN_REQUIRE(std::filesystem::is_regular_file(f), "recipe: 'data' file '", f,
                 "' does not exist");
  KILN_REQUIRE(tokenizer.empty() || std::filesystem::exists(tokenizer), "recipe: 'tokenizer' '",
               tokenizer, "' does not exist");
  KILN_REQUIRE(val_fraction > 0 && val_fraction < 0.5,
               "recipe: 'val_fraction' must be in (0, 0.5)");
  KILN_REQUIRE(clip_grad >= 0, "recipe: 'clip_grad' must be >= 0");
  KILN_REQUIRE(label_smoothing >= 0 && label_smoothing <= 1,
               "recipe: 'label_smoothing' must be in [0, 1], got ", label_smoothing);
  KILN_REQUIRE(z_loss >= 0, "recipe: 'z_loss' must be >= 0, got ", z_loss);
  KILN_REQUIRE(focal_gamma >= 0, "recipe: 'focal_gamma' must be >= 0, got ", focal_gamma);
  KILN_REQUIRE(focal_gamma == 0 || label_smoothing == 0,
               "recipe: 'focal_gamma' and 'label_smoothing' cannot both be set");
  KILN_REQUIRE(sample_temperature >= 0, "recipe: 'sample_temperature' must be >= 0");
  try {
    kiln::train::validate(schedule);
  } catch (const Error& e) {
    throw Error(str("recipe: ", e.what()));
  }
}

}  // namespace kiln::train
