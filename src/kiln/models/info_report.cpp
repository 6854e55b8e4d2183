// The report of `kiln info`: the cost model of info.h for one config, as JSON or text.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "kiln/models/info.h"

namespace kiln::models {

using nlohmann::json;

namespace {

std::string grouped(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0 && s[i - 1] != '-') out += ',';
    out += s[i];
  }
  return out;
}

std::string bytes(double b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", b, unit[u]);
  return buf;
}

std::string fixed(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

json info_json(const ModelConfig& c, int64_t context, int64_t train_tokens) {
  ParamCounts p = count_params(c);
  ServeMemory s = serve_memory(c, context);
  TrainMemory t = train_memory(c, train_tokens);
  return {{"model_type", c.model_type},
          {"architecture", c.architecture},
          {"params",
           {{"total", p.total},
            {"active", p.active},
            {"embedding", p.embedding},
            {"lm_head", p.lm_head},
            {"untied", p.untied()}}},
          {"context", context},
          {"flops_per_token", flops_per_token(c, context)},
          {"kv_bytes_per_token",
           {{"bf16", kv_bytes_per_token(c, DType::BF16)},
            {"f32", kv_bytes_per_token(c, DType::F32)},
            {"per_layer_bf16", kv_bytes_per_token_per_layer(c, DType::BF16)}}},
          {"serve_bytes",
           {{"weights_bf16", s.weights_bf16},
            {"weights_int8", s.weights_int8},
            {"weights_int4", s.weights_int4},
            {"kv_bf16", s.kv}}},
          {"train_tokens", train_tokens},
          {"train_bytes",
           {{"weights", t.weights},
            {"grads", t.grads},
            {"master", t.master},
            {"moments", t.moments},
            {"activations", t.activations},
            {"total", t.total()}}}};
}

std::string info_text(const ModelConfig& c, int64_t context, int64_t train_tokens) {
  ParamCounts p = count_params(c);
  ServeMemory s = serve_memory(c, context);
  TrainMemory t = train_memory(c, train_tokens);
  int64_t sliding = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) sliding += c.is_sliding_layer(i);
  std::string o;
  o += "model        " + c.model_type + " (" + c.architecture + ")\n";
  o += "shape        " + std::to_string(c.num_hidden_layers) + " layers, hidden " +
       std::to_string(c.hidden_size) + ", heads " + std::to_string(c.num_attention_heads) +
       " (kv " + std::to_string(c.num_key_value_heads) + ", head_dim " +
       std::to_string(c.head_dim) + "), vocab " + std::to_string(c.vocab_size) +
       (c.tie_word_embeddings ? ", tied embeddings" : "") + "\n";
  if (c.num_experts > 0)
    o += "experts      " + std::to_string(c.num_experts) + " x " +
         std::to_string(c.moe_intermediate_size) + ", top-" +
         std::to_string(c.num_experts_per_tok) + "\n";
  else
    o += "ffn          " + std::to_string(c.intermediate_size) + "\n";
  if (sliding > 0)
    o += "windows      " + std::to_string(sliding) + " sliding layers of " +
         std::to_string(c.sliding_window) + "\n";
  o += "parameters   " + grouped(p.total) + " total, " + grouped(p.active) + " active (embedding " +
       grouped(p.embedding) + ")\n";
  o += "flops/token  " + fixed(flops_per_token(c, context) / 1e9, "%.3f") +
       " GFLOP forward at context " + std::to_string(context) + " (training ~3x)\n";
  o += "kv cache     " + grouped(kv_bytes_per_token(c, DType::BF16)) + " B/token bf16 (" +
       grouped(kv_bytes_per_token_per_layer(c, DType::BF16)) + " per layer); " +
       bytes(double(s.kv)) + " at context " + std::to_string(context) + "\n";
  o += "serve        weights " + bytes(double(s.weights_bf16)) + " bf16, " +
       bytes(double(s.weights_int8)) + " int8, " + bytes(double(s.weights_int4)) + " int4; + KV " +
       bytes(double(s.kv)) + "\n";
  o += "train        AdamW bf16 mixed: weights " + bytes(double(t.weights)) + ", grads " +
       bytes(double(t.grads)) + ", master " + bytes(double(t.master)) + ", moments " +
       bytes(double(t.moments)) + ", activations " + bytes(double(t.activations)) + " (" +
       std::to_string(train_tokens) + " tokens); total " + bytes(double(t.total())) + "\n";
  return o;
}

}  // namespace kiln::models
