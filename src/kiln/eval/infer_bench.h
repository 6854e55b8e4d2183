#pragma once
// `kiln bench infer`: the generation engine swept over prompt length and batch size for one or
// more models, written as a table (Markdown, CSV, JSON) and PNG plots of prefill time, decode
// speed and KV-cache size, so attention variants (MHA, GQA, MQA, sliding window) can be set side
// by side. Batch size N is N sequences generated at once by one Engine.
#include <functional>
#include <string>
#include <vector>

#include "kiln/models/decoder.h"

namespace kiln::eval {

struct InferBenchOptions {
  std::vector<int64_t> prompt_lengths{128, 512, 2048};
  std::vector<int64_t> batch_sizes{1, 4, 16};
  int64_t gen = 64;  // tokens generated per sequence
  int64_t block_size = 16, prefill_chunk = 256;
};

struct InferBenchRow {
  std::string model, attention;                  // attention: e.g. "GQA 6/2", "MQA 6/1 SWA 256"
  int64_t prompt = 0, batch = 0, generated = 0;  // generated: per sequence
  double prefill_s = 0;                          // mean over the batch's sequences
  double prefill_tok_s = 0, ttft_s = 0;          // ttft: mean over the batch
  double decode_tok_s = 0;  // all sequences' tokens after their first, per decode second
  int64_t kv_bytes_per_token = 0, kv_bytes_peak = 0;  // peak: blocks in use, whole batch
};

// KV-cache bytes one sequence holds at each length, measured on a real PagedKvCache.
struct KvCurve {
  std::string model;
  std::vector<double> length, bytes;
};

// "MHA 4/4", "GQA 4/2", "MQA 4/1", with " SWA W" when some layers slide.
std::string attention_kind(const models::ModelConfig& c);

// Runs the sweep on one model; rows for prompts that do not fit the model's context (prompt +
// gen > max_position_embeddings) are left out. `log` gets one line per row (may be empty).
std::vector<InferBenchRow> bench_infer(models::Decoder& m, const std::string& name,
                                       const InferBenchOptions& o,
                                       const std::function<void(const InferBenchRow&)>& log = {});
KvCurve kv_curve(const models::Decoder& m, const std::string& name, int64_t max_length,
                 int64_t block_size, int64_t points = 32);

// Writes DIR/infer_bench.{md,csv,json} and DIR/{prefill,decode,kv_cache}.png; returns the paths.
std::vector<std::string> write_infer_bench(const std::vector<InferBenchRow>& rows,
                                           const std::vector<KvCurve>& kv, const std::string& dir);

}  // namespace kiln::eval
