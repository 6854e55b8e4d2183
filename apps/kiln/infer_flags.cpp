#include "infer_flags.h"

#include "kiln/core/error.h"

namespace kiln::app {

void add_model_flags(CLI::App* cmd, ModelFlags& f) {
  cmd->add_option("--model", f.model,
                  "Hugging Face folder (a kiln checkpoint is one), or a preset name / .yaml "
                  "(random init with --init-seed)")
      ->required();
  cmd->add_option("--tokenizer", f.tokenizer,
                  "tokenizer folder or tokenizer.json (default: the model's folder)");
  cmd->add_option("--dtype", f.dtype, "compute dtype: f32, bf16 or f16");
  cmd->add_option("--init-seed", f.init_seed, "init seed for a preset");
  cmd->add_option("--ctx", f.ctx, "context length (default: max_position_embeddings)");
}

void add_generation_flags(CLI::App* cmd, infer::GenerateOptions& o) {
  infer::SamplingParams& p = o.sampling;
  cmd->add_option("--max-tokens", o.max_tokens, "tokens to generate at most");
  cmd->add_option("--temperature", p.temperature, "softmax temperature; 0 is greedy");
  cmd->add_option("--top-k", p.top_k, "keep the k most likely tokens (0: all)");
  cmd->add_option("--top-p", p.top_p, "nucleus: keep the most likely tokens of this mass");
  cmd->add_option("--min-p", p.min_p, "drop tokens below min-p times the best one's probability");
  cmd->add_option("--repeat-penalty", p.repetition_penalty,
                  "HF repetition penalty on prompt and generated tokens (1: off)");
  cmd->add_option("--frequency-penalty", p.frequency_penalty,
                  "subtract this times a token's count in the output");
  cmd->add_option("--presence-penalty", p.presence_penalty,
                  "subtract this from tokens already in the output");
  cmd->add_option("--seed", p.seed, "sampling seed");
  cmd->add_option("--stop", o.stop_strings, "stop at this text (repeatable); not printed");
}

std::string stats_line(const infer::GenerateStats& s, infer::FinishReason finish) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "stats: prompt %lld tok (%lld cached), prefill %.3f s (%.1f tok/s), time to first "
                "token %.3f s, "
                "%lld tok generated, decode %.1f tok/s, kv cache %.2f MiB allocated, %.2f MiB "
                "peak in use, %lld B/token, finish %s",
                (long long)s.prompt_tokens, (long long)s.cached_tokens, s.prefill_s,
                s.prefill_tokens_per_s(), s.time_to_first_token_s, (long long)s.generated_tokens,
                s.decode_tokens_per_s(), double(s.kv_bytes_total) / 1048576.0,
                double(s.kv_bytes_peak_used) / 1048576.0, (long long)s.kv_bytes_per_token,
                infer::finish_reason_name(finish));
  return buf;
}

std::string speculative_stats_line(const infer::SpeculativeStats& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "speculative: %lld steps, %lld/%lld proposals accepted (%.1f %%), %.2f tok per "
                "target forward, draft %.3f s, verify %.3f s",
                (long long)s.steps, (long long)s.accepted, (long long)s.proposed,
                100.0 * s.acceptance_rate(), s.tokens_per_step(), s.draft_s, s.verify_s);
  return buf;
}

}  // namespace kiln::app
