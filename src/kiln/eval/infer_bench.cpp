#include "kiln/eval/infer_bench.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiln/autograd/grad_mode.h"
#include "kiln/eval/chart.h"
#include "kiln/infer/generator.h"
#include "kiln/io/mmap.h"

namespace kiln::eval {

namespace fs = std::filesystem;

std::string attention_kind(const models::ModelConfig& c) {
  int64_t h = c.num_attention_heads, kv = c.num_key_value_heads;
  std::string s = kv == h ? "MHA " : kv == 1 ? "MQA " : "GQA ";
  s.append(std::to_string(h)).append("/").append(std::to_string(kv));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    if (c.is_sliding_layer(i) && c.sliding_window > 0)
      return s.append(" SWA ").append(std::to_string(c.sliding_window));
  return s;
}

namespace {
// Distinct prompts of n ids: no stop ids are set, so every sequence generates o.gen tokens.
std::vector<int32_t> bench_prompt(int64_t n, int64_t vocab, int64_t seq) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(int32_t((i * 7919 + seq * 104729 + 1) % vocab));
  return ids;
}
}  // namespace

std::vector<InferBenchRow> bench_infer(models::Decoder& m, const std::string& name,
                                       const InferBenchOptions& o,
                                       const std::function<void(const InferBenchRow&)>& log) {
  KILN_REQUIRE(o.gen > 0, "bench infer: --gen ", o.gen, ", expected > 0");
  const models::ModelConfig& c = m.config();
  std::vector<InferBenchRow> rows;
  for (int64_t p : o.prompt_lengths) {
    KILN_REQUIRE(p > 0, "bench infer: prompt length ", p, ", expected > 0");
    if (p + o.gen > c.max_position_embeddings) continue;
    for (int64_t b : o.batch_sizes) {
      KILN_REQUIRE(b > 0, "bench infer: batch size ", b, ", expected > 0");
      infer::EngineOptions eo;
      eo.context = p + o.gen;
      eo.max_sequences = b;
      eo.block_size = o.block_size;
      eo.prefill_chunk = o.prefill_chunk;
      infer::Engine e(m, nullptr, eo);
      std::vector<std::vector<int32_t>> prompts;
      for (int64_t i = 0; i < b; ++i) prompts.push_back(bench_prompt(p, c.vocab_size, i));
      infer::GenerateOptions go;
      go.sampling.temperature = 0;
      go.max_tokens = o.gen;
      std::vector<infer::GenerateResult> rs = e.generate(prompts, go);
      InferBenchRow r{name, attention_kind(c), p, b, o.gen};
      int64_t decoded = 0;
      for (const infer::GenerateResult& g : rs) {
        r.prefill_s += g.stats.prefill_s / double(b);
        r.ttft_s += g.stats.time_to_first_token_s / double(b);
        decoded += g.stats.generated_tokens - 1;
      }
      r.prefill_tok_s = r.prefill_s > 0 ? double(p) / r.prefill_s : 0;
      double decode_s = rs[0].stats.decode_s;  // one loop steps every sequence
      r.decode_tok_s = decode_s > 0 ? double(decoded) / decode_s : 0;
      r.kv_bytes_per_token = rs[0].stats.kv_bytes_per_token;
      r.kv_bytes_peak = rs[0].stats.kv_bytes_peak_used;
      if (log) log(r);
      rows.push_back(r);
    }
  }
  return rows;
}

KvCurve kv_curve(const models::Decoder& m, const std::string& name, int64_t max_length,
                 int64_t block_size, int64_t points) {
  NoGradGuard ng;
  infer::KvLayout l = infer::kv_layout(m.config(), m.dtype());
  int64_t step = std::max<int64_t>(1, max_length / points);
  infer::BlockPool pool(l, block_size,
                        infer::BlockPool::blocks_needed(l, block_size, max_length, step));
  infer::PagedKvCache cache(pool);
  // Each point is fed as a prefill of step - 1 tokens and one decode token, and read after the
  // decode token: what a generating sequence holds at that length.
  Tensor one = Tensor::zeros({1, l.kv_heads, 1, l.head_dim}, l.dtype);
  Tensor rest = Tensor::zeros({1, l.kv_heads, std::max<int64_t>(1, step - 1), l.head_dim}, l.dtype);
  KvCurve curve{name, {}, {}};
  for (int64_t n = step; n <= max_length; n += step) {
    for (int64_t layer = 0; layer < l.n_layers; ++layer) {
      if (step > 1) cache.append(layer, rest, rest);
      cache.append(layer, one, one);
    }
    curve.length.push_back(double(n));
    curve.bytes.push_back(double(cache.blocks_held() * pool.block_bytes()));
  }
  return curve;
}

namespace {

void write_text(const std::string& path, const std::string& text) {
  io::write_atomically(path, [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string markdown(const std::vector<InferBenchRow>& rows) {
  std::string s =
      "| model | attention | prompt | batch | gen | prefill s | prefill tok/s | TTFT s | "
      "decode tok/s | KV B/token | KV peak MiB |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const InferBenchRow& r : rows)
    s += "| " + r.model + " | " + r.attention + " | " + std::to_string(r.prompt) + " | " +
         std::to_string(r.batch) + " | " + std::to_string(r.generated) + " | " +
         fmt("%.4f", r.prefill_s) + " | " + fmt("%.1f", r.prefill_tok_s) + " | " +
         fmt("%.4f", r.ttft_s) + " | " + fmt("%.1f", r.decode_tok_s) + " | " +
         std::to_string(r.kv_bytes_per_token) + " | " +
         fmt("%.3f", double(r.kv_bytes_peak) / 1048576.0) + " |\n";
  return s;
}

std::string csv(const std::vector<InferBenchRow>& rows) {
  std::string s =
      "model,attention,prompt,batch,gen,prefill_s,prefill_tok_s,ttft_s,decode_tok_s,"
      "kv_bytes_per_token,kv_bytes_peak\n";
  for (const InferBenchRow& r : rows)
    s += r.model + "," + r.attention + "," + std::to_string(r.prompt) + "," +
         std::to_string(r.batch) + "," + std::to_string(r.generated) + "," +
         fmt("%.6f", r.prefill_s) + "," + fmt("%.3f", r.prefill_tok_s) + "," +
         fmt("%.6f", r.ttft_s) + "," + fmt("%.3f", r.decode_tok_s) + "," +
         std::to_string(r.kv_bytes_per_token) + "," + std::to_string(r.kv_bytes_peak) + "\n";
  return s;
}

std::string json(const std::vector<InferBenchRow>& rows, const std::vector<KvCurve>& kv) {
  nlohmann::ordered_json j = {{"rows", nlohmann::ordered_json::array()},
                              {"kv_cache", nlohmann::ordered_json::array()}};
  for (const InferBenchRow& r : rows)
    j["rows"].push_back({{"model", r.model},
                         {"attention", r.attention},
                         {"prompt", r.prompt},
                         {"batch", r.batch},
                         {"gen", r.generated},
                         {"prefill_s", r.prefill_s},
                         {"prefill_tok_s", r.prefill_tok_s},
                         {"ttft_s", r.ttft_s},
                         {"decode_tok_s", r.decode_tok_s},
                         {"kv_bytes_per_token", r.kv_bytes_per_token},
                         {"kv_bytes_peak", r.kv_bytes_peak}});
  for (const KvCurve& c : kv)
    j["kv_cache"].push_back({{"model", c.model}, {"length", c.length}, {"bytes", c.bytes}});
  return j.dump(2) + "\n";
}

// Models in the order they first appear.
std::vector<std::string> models_of(const std::vector<InferBenchRow>& rows) {
  std::vector<std::string> names;
  for (const InferBenchRow& r : rows)
    if (std::find(names.begin(), names.end(), r.model) == names.end()) names.push_back(r.model);
  return names;
}

void save_chart(const Chart& chart, const std::string& path) {
  Canvas cv(900, 560);
  draw_chart(cv, {0, 0, cv.width(), cv.height()}, chart);
  cv.save_png(path);
}

}  // namespace

std::vector<std::string> write_infer_bench(const std::vector<InferBenchRow>& rows,
                                           const std::vector<KvCurve>& kv, const std::string& dir) {
  KILN_REQUIRE(!rows.empty(), "bench infer: no rows (every prompt length exceeds the context?)");
  fs::create_directories(dir);
  std::vector<std::string> paths;
  auto out = [&](const std::string& file) {
    return paths.emplace_back((fs::path(dir) / file).string());
  };
  write_text(out("infer_bench.md"), markdown(rows));
  write_text(out("infer_bench.csv"), csv(rows));
  write_text(out("infer_bench.json"), json(rows, kv));
  std::vector<std::string> names = models_of(rows);
  std::vector<int64_t> prompts;
  for (const InferBenchRow& r : rows)
    if (std::find(prompts.begin(), prompts.end(), r.prompt) == prompts.end())
      prompts.push_back(r.prompt);
  Chart prefill{"PREFILL TIME OF ONE SEQUENCE", "PROMPT TOKENS", "SECONDS", false, {}};
  Chart decode{"DECODE SPEED (ALL SEQUENCES)", "BATCH SIZE", "TOKENS/S", false, {}};
  Chart cache{"KV CACHE OF ONE SEQUENCE", "TOKENS", "MIB", false, {}};
  for (size_t i = 0; i < names.size(); ++i) {
    // Sequences are prefilled one at a time whatever the batch: the median over the batch sizes'
    // rows gives one figure per prompt length, steadier than any one row.
    Series pf{names[i], {}, {}, palette(i), false, true};
    for (int64_t p : prompts) {
      std::vector<double> t;
      for (const InferBenchRow& r : rows)
        if (r.model == names[i] && r.prompt == p) t.push_back(r.prefill_s);
      if (t.empty()) continue;
      std::nth_element(t.begin(), t.begin() + int64_t(t.size() / 2), t.end());
      pf.x.push_back(double(p));
      pf.y.push_back(t[t.size() / 2]);
    }
    prefill.series.push_back(pf);
    for (size_t j = 0; j < prompts.size(); ++j) {
      // The shortest prompt solid, longer ones dashed.
      Series d{std::string(names[i]).append(" P").append(std::to_string(prompts[j])),
               {},
               {},
               palette(i),
               j > 0,
               true};
      for (const InferBenchRow& r : rows)
        if (r.model == names[i] && r.prompt == prompts[j]) {
          d.x.push_back(double(r.batch));
          d.y.push_back(r.decode_tok_s);
        }
      if (!d.x.empty()) decode.series.push_back(d);
    }
  }
  for (size_t i = 0; i < kv.size(); ++i) {
    Series s{kv[i].model, kv[i].length, {}, palette(i)};
    for (double b : kv[i].bytes) s.y.push_back(b / 1048576.0);
    cache.series.push_back(s);
  }
  save_chart(prefill, out("prefill.png"));
  save_chart(decode, out("decode.png"));
  if (!cache.series.empty()) save_chart(cache, out("kv_cache.png"));
  return paths;
}

}  // namespace kiln::eval
