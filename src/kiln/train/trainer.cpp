#include "kiln/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd/functions.h"
#include "kiln/core/copy.h"
#include "kiln/core/progress.h"
#include "kiln/core/thread_pool.h"
#include "kiln/data/loader.h"
#include "kiln/io/safetensors.h"
#include "kiln/models/hf_checkpoint.h"
#include "kiln/models/info.h"
#include "kiln/ops/matmul.h"
#include "kiln/tokenizer/tokenizer.h"
#include "kiln/train/optimizer.h"
#include "kiln/train/sample.h"

namespace kiln::train {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// No weight decay on norms, biases and embeddings (the usual split, as in nanoGPT/Llama recipes).
bool decays(const nn::NamedParam& p) {
  const std::string& n = p.name;
  return p.tensor->dim() >= 2 && n.find("embed_tokens") == std::string::npos;
}

std::unique_ptr<Optimizer> make_optimizer(const Recipe& r, models::Decoder& m) {
  ParamGroup decay{{}, {}, 1.0, r.weight_decay}, plain{{}, {}, 1.0, 0.0},
      matrices{{}, {}, 1.0, r.weight_decay};
  for (const nn::NamedParam& p : m.named_parameters()) {
    bool hidden_matrix = p.tensor->dim() == 2 && p.name.find("embed_tokens") == std::string::npos &&
                         p.name.find("lm_head") == std::string::npos;
    ParamGroup& g = r.optimizer == "muon" && hidden_matrix ? matrices : decays(p) ? decay : plain;
    g.names.push_back(p.name);
    g.params.push_back(*p.tensor);
  }
  if (r.optimizer == "sgd") return make_sgd({decay, plain}, {r.momentum, false});
  AdamWOptions a{r.beta1, r.beta2, r.eps};
  if (r.optimizer == "muon") return make_muon({matrices}, {decay, plain}, {0.95, true, 5, a});
  return make_adamw({decay, plain}, a);
}

// The rate of this machine's f32 GEMM, the denominator of MFU (model FLOPs utilization): the best
// of several 1024^3 products, so a busy moment at start-up does not understate it.
double measured_peak_flops() {
  Tensor a = Tensor::ones({1024, 1024}), b = Tensor::ones({1024, 1024});
  ops::matmul(a, b);
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t = Clock::now();
    ops::matmul(a, b);
    best = std::min(best, seconds_since(t));
  }
  return 2.0 * 1024 * 1024 * 1024 / best;
}

double batch_loss(models::Decoder& m, const data::Batch& b, const Recipe& r,
                  models::ForwardOutput* out_keep, Tensor* total) {
  Device dev =
      Device::parse(r.device);  // the loader makes host batches; the model may not be there
  models::ForwardOutput out = m.forward(b.inputs.to(dev), b.positions.to(dev));
  int64_t V = out.logits.size(-1);
  Tensor loss = cross_entropy(reshape(out.logits, {-1, V}), b.targets.reshape({-1}).to(dev),
                              {-100, r.label_smoothing, r.z_loss, r.focal_gamma});
  *total = out.moe_loss.defined() ? add(loss, out.moe_loss) : loss;
  double v = loss.item();
  if (out_keep) *out_keep = std::move(out);
  return v;
}

double evaluate(models::Decoder& m, const data::TokenShard& val, const Recipe& r) {
  NoGradGuard ng;
  m.eval();
  data::TokenLoader loader(val, r.batch_size, r.seq_len, 0, false);
  int64_t n = std::min<int64_t>(r.eval_batches,
                                std::max<int64_t>(1, loader.windows_per_epoch() / r.batch_size));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    Tensor total;
    sum += batch_loss(m, loader.next(), r, nullptr, &total);
  }
  m.train();
  return sum / double(n);
}

std::string checkpoint_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", (long long)step);
  return buf;
}

std::vector<fs::path> checkpoints(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("step_", 0) == 0 &&
        fs::exists(e.path() / "trainer_state.json"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

struct State {
  int64_t step = 0;
  data::LoaderPosition pos;
  uint64_t sample_seed = 0, sample_offset = 0;
};

// The tokenizer travels with each checkpoint, so that a checkpoint is a whole Hugging Face folder
// that `kiln generate` / `kiln chat` (and transformers) load without being told where it came from.
void copy_tokenizer(const std::string& tokenizer, const fs::path& dir) {
  fs::path src = tokenizer;
  fs::path folder = fs::is_directory(src) ? src : src.parent_path();
  fs::path json = fs::is_directory(src) ? src / "tokenizer.json" : src;
  if (fs::is_regular_file(json)) fs::copy_file(json, dir / "tokenizer.json");
  if (fs::is_regular_file(folder / "tokenizer_config.json"))
    fs::copy_file(folder / "tokenizer_config.json", dir / "tokenizer_config.json");
}

void save_checkpoint(const fs::path& root, const State& s, models::Decoder& m, const Optimizer& opt,
                     int64_t keep, const std::string& tokenizer) {
  fs::create_directories(root);
  fs::path final_dir = root / checkpoint_name(s.step),
           tmp = root / (".tmp_" + checkpoint_name(s.step));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  models::save_hf(m, tmp.string());
  copy_tokenizer(tokenizer, tmp);
  std::vector<std::pair<std::string, Tensor>> st;
  for (auto& [k, v] : opt.state()) st.emplace_back(k, v);
  io::save_safetensors((tmp / "optimizer.safetensors").string(), st);
  json j = {{"step", s.step},
            {"loader_epoch", s.pos.epoch},
            {"loader_window", s.pos.window},
            {"sample_seed", s.sample_seed},
            {"sample_offset", s.sample_offset}};
  std::ofstream(tmp / "trainer_state.json") << j.dump(2);
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);  // the checkpoint appears whole or not at all
  auto all = checkpoints(root);
  for (size_t i = 0; i + size_t(keep) < all.size(); ++i) fs::remove_all(all[i]);
}

State load_checkpoint(const fs::path& dir, models::Decoder& m, Optimizer& opt) {
  models::load_hf_weights(m, dir.string());
  io::SafetensorsFile f((dir / "optimizer.safetensors").string());
  std::map<std::string, Tensor> st;
  for (const std::string& n : f.names()) st[n] = f.get(n).clone();
  opt.load_state(st);
  json j = json::parse(std::ifstream(dir / "trainer_state.json"));
  State s;
  s.step = j.at("step");
  s.pos = {j.at("loader_epoch"), j.at("loader_window")};
  s.sample_seed = j.at("sample_seed");
  s.sample_offset = j.at("sample_offset");
  return s;
}

// Keeps metrics.jsonl lines up to `step` (a resumed run rewrites what follows).
void truncate_metrics(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line))
    if (!line.empty() && json::parse(line).value("step", int64_t(0)) <= step) kept += line + "\n";
  std::ofstream(path) << kept;
}

std::string utilization_table(const models::ForwardOutput& out) {
  std::string s;
  for (const auto& u : out.utilization) {
    int64_t total = 0;
    for (int64_t c : u.counts) total += c;
    s += str("  layer ", u.layer, " expert use %:");
    for (int64_t c : u.counts) {
      char buf[16];
      std::snprintf(buf, sizeof buf, " %5.1f", total ? 100.0 * double(c) / double(total) : 0.0);
      s += buf;
    }
    if (u.dropped) s += str("  (dropped ", u.dropped, ")");
    s += "\n";
  }
  return s;
}

}  // namespace

TrainResult train(const Recipe& r, bool resume) {
  r.validate();
  fs::path out = r.out_dir;
  fs::create_directories(out);
  auto tok = tokenizer::Tokenizer::load(r.tokenizer);

  // Data: tokenized once into out/data and reused by later runs and resumes.
  fs::path data_dir = out / "data";
  if (!fs::exists(data_dir / "meta.json")) {
    data::PrepareOptions po;
    po.inputs = r.data_files;
    po.out_dir = data_dir.string();
    po.val_fraction = r.val_fraction;
    po.vocab_size = tok.vocab_size();
    po.eos_id = tok.eos_id().value_or(-1);
    data::prepare_shards(po, [&](std::string_view t) { return tok.encode(t); });
  }
  data::TokenShard train_shard(data_dir.string(), "train"), val_shard(data_dir.string(), "val");

  models::ModelConfig cfg = models::load_preset(r.model);
  KILN_REQUIRE(cfg.vocab_size >= tok.vocab_size(), "recipe: model '", r.model, "' has vocab_size ",
               cfg.vocab_size, " but the tokenizer has ", tok.vocab_size(), " tokens");
  // Checkpoints are Hugging Face folders: a model config.json cannot express fails here, before
  // training, rather than at the first checkpoint.
  models::to_hf_config(cfg);
  models::Decoder model(cfg);  // f32: the weights the optimizer updates and checkpoints hold
  Generator init(r.seed);
  model.init_weights(init);
  const Device dev = Device::parse(r.device);
  KILN_REQUIRE(!(resume && dev.is_cuda()), "resume: continuing a run on ", dev.str(),
               " is not supported yet; resume it on cpu");
  model.to(dev);  // before the optimizer and the bf16 copy take their handles
  // bf16 mixed precision: `fwd` is a bf16 copy that runs forward and backward; its gradients are
  // widened onto the f32 master weights, and the updated masters are rounded back into it.
  std::unique_ptr<models::Decoder> low;
  if (r.precision == "bf16") {
    low = std::make_unique<models::Decoder>(cfg, DType::BF16);
    low->to(dev);
  }
  models::Decoder& fwd = low ? *low : model;
  fwd.train();
  fwd.set_checkpointing(r.grad_checkpointing == "all"         ? nn::Checkpoint::Whole
                        : r.grad_checkpointing == "attention" ? nn::Checkpoint::Attention
                                                              : nn::Checkpoint::None,
                        r.grad_checkpointing_every);
  auto opt = make_optimizer(r, model);
  std::vector<Tensor> params = model.parameters();
  std::vector<Tensor> low_params = low ? low->parameters() : std::vector<Tensor>{};
  auto round_into_low = [&] {
    for (size_t i = 0; i < low_params.size(); ++i) copy_tensor(low_params[i], params[i]);
  };
  auto widen_grads = [&] {
    for (size_t i = 0; i < low_params.size(); ++i) {
      Tensor g = low_params[i].grad();
      params[i].set_grad(g.defined() ? g.to(DType::F32) : Tensor());
      low_params[i].set_grad(Tensor());
    }
  };

  State s{0, {}, r.seed + 1, 0};
  fs::path ckpt_root = out / "checkpoints";
  if (resume) {
    auto all = checkpoints(ckpt_root);
    KILN_REQUIRE(!all.empty(), "resume: no checkpoint in '", ckpt_root.string(), "'");
    s = load_checkpoint(all.back(), model, *opt);
    std::fprintf(stderr, "resumed from %s\n", all.back().c_str());
  }

  round_into_low();
  truncate_metrics(out / "metrics.jsonl", s.step);
  std::ofstream metrics(out / "metrics.jsonl", std::ios::app);
  data::TokenLoader loader(train_shard, r.batch_size, r.seq_len, r.seed, true, r.doc_masking);
  if (s.step > 0) loader.seek(s.pos);
  Generator sampler(s.sample_seed);
  sampler.set_state(s.sample_seed, s.sample_offset);

  const int64_t tokens_per_step = r.batch_size * r.seq_len * r.grad_accum;
  const double train_flops = 3.0 * models::flops_per_token(cfg, r.seq_len);
  const double peak = measured_peak_flops();
  std::fprintf(stderr, "training %s: %.2fM parameters, %lld tokens/step, %lld steps\n",
               r.model.c_str(), double(model.num_parameters()) / 1e6, (long long)tokens_per_step,
               (long long)r.steps);

  TrainResult res;
  Progress bar("train", r.steps, "step");
  auto window_start = Clock::now();
  int64_t window_steps = 0;
  double loss = 0, gnorm = 0, tok_s = 0;
  models::ForwardOutput last_out;
  auto do_sample = [&] {
    std::vector<int32_t> prompt = tok.encode(r.sample_prompt);
    std::vector<int32_t> ids =
        sample_tokens(fwd, prompt, r.sample_tokens, r.sample_temperature, sampler, r.seq_len);
    res.sample = tok.decode(ids);
    std::fprintf(stderr, "\n--- sample at step %lld ---\n%s%s\n---\n", (long long)s.step,
                 r.sample_prompt.c_str(), res.sample.c_str());
  };
  while (s.step < r.steps) {
    double lr = learning_rate(r.schedule, s.step);
    double step_loss = 0, aux = 0, zl = 0;
    for (int64_t micro = 0; micro < r.grad_accum; ++micro) {
      Tensor total;
      step_loss += batch_loss(fwd, loader.next(), r, &last_out, &total) / double(r.grad_accum);
      if (last_out.aux_loss.defined()) aux += last_out.aux_loss.item() / double(r.grad_accum);
      if (last_out.z_loss.defined()) zl += last_out.z_loss.item() / double(r.grad_accum);
      backward(r.grad_accum > 1 ? mul_scalar(total, 1.0 / double(r.grad_accum)) : total);
    }
    if (!std::isfinite(step_loss)) {
      auto all = checkpoints(ckpt_root);
      throw Error(str("training stopped at step ", s.step + 1, ": the loss is ", step_loss,
                      "; the last good checkpoint is ",
                      all.empty() ? std::string("(none yet)") : all.back().string()));
    }
    widen_grads();
    gnorm = clip_grad_norm(params, r.clip_grad);
    opt->step(lr);
    opt->zero_grad();
    round_into_low();
    ++s.step;
    ++window_steps;
    loss = step_loss;
    s.pos = loader.position();
    json m = {{"step", s.step}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm}};
    if (last_out.aux_loss.defined()) m["aux_loss"] = aux;
    if (last_out.z_loss.defined()) m["router_z_loss"] = zl;
    if (s.step % r.log_every == 0 || s.step == r.steps) {
      tok_s = double(window_steps * tokens_per_step) / seconds_since(window_start);
      window_start = Clock::now();
      window_steps = 0;
    }
    m["tok_s"] = tok_s;
    if (s.step % r.eval_every == 0 || s.step == r.steps) {
      m["val_loss"] = res.final_val_loss = evaluate(fwd, val_shard, r);
      if (!last_out.utilization.empty())
        std::fprintf(stderr, "\n%s", utilization_table(last_out).c_str());
    }
    metrics << m.dump() << "\n";
    metrics.flush();
    char extra[160];
    std::snprintf(extra, sizeof extra, "loss %.4f lr %.2e gnorm %.2f %.0f tok/s MFU %.1f%%%s", loss,
                  lr, gnorm, tok_s, 100.0 * train_flops * tok_s / peak,
                  last_out.aux_loss.defined() ? str(" aux ", aux).c_str() : "");
    bar.update(s.step, extra);
    if (r.sample_every > 0 && s.step % r.sample_every == 0 && s.step < r.steps) do_sample();
    if (s.step % r.checkpoint_every == 0 || s.step == r.steps) {
      s.sample_offset = sampler.offset();
      save_checkpoint(ckpt_root, s, model, *opt, r.keep_checkpoints, r.tokenizer);
      res.checkpoint = (ckpt_root / checkpoint_name(s.step)).string();
    }
  }
  bar.finish();
  res.steps = s.step;
  res.final_loss = loss;
  res.tokens_per_second = tok_s;
  if (!last_out.utilization.empty())
    std::fprintf(stderr, "%s", utilization_table(last_out).c_str());
  do_sample();
  return res;
}

}  // namespace kiln::train
