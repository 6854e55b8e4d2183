#pragma once
// A training recipe: everything a run needs, read from YAML (configs/train/*.yaml) with
// `key=value` overrides from the command line (dotted keys reach nested maps:
// optimizer.lr=3e-4). Every key is known and typed: an unknown key, a wrong type or a missing
// data file is rejected before training starts, with the key named.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/train/schedule.h"

namespace kiln::train {

struct Recipe {
  // model
  std::string model = "debug";  // preset name or preset .yaml path
  // data
  std::vector<std::string> data_files;  // .txt / .jsonl corpora
  std::string tokenizer;                // tokenizer.json; empty: train one (tokenizer_vocab)
  int64_t tokenizer_vocab = 512;
  double val_fraction = 0.1;
  bool doc_masking = false;
  // batch
  int64_t seq_len = 256;
  int64_t batch_size = 16;
  int64_t grad_accum = 1;
  int64_t steps = 1000;
  // optimization
  std::string optimizer = "adamw";  // adamw | sgd | muon
  double weight_decay = 0.1;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, momentum = 0.9;
  ScheduleConfig schedule;  // schedule.total is set to steps
  double clip_grad = 1.0;
  // Gradient checkpointing: none | all (whole blocks) | attention (the attention sublayers), on
  // every grad_checkpointing_every-th block.
  std::string grad_checkpointing = "none";
  // f32, or bf16 mixed precision: forward and backward run on a bf16 copy of the weights, the
  // optimizer updates f32 master weights (which checkpoints hold).
  std::string precision = "f32";
  // Where the model trains: cpu, cuda or cuda:N (kiln built with -DKILN_CUDA=ON).
  std::string device = "cpu";
  int64_t grad_checkpointing_every = 1;
  double label_smoothing = 0.0;
  double z_loss = 0.0;
  double focal_gamma = 0.0;  // > 0: focal loss instead of cross-entropy on the target
  // run
  uint64_t seed = 1337;
  int64_t log_every = 10;
  int64_t eval_every = 200;
  int64_t eval_batches = 10;
  int64_t sample_every = 0;  // 0: only at the end
  int64_t sample_tokens = 200;
  std::string sample_prompt = "\n";
  double sample_temperature = 0.8;
  int64_t checkpoint_every = 500;
  int64_t keep_checkpoints = 2;
  std::string out_dir = "runs/run";

  // Parses a recipe file and applies overrides; throws kiln::Error naming the key.
  static Recipe load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Checks values and that data files exist; throws naming the key.
  void validate() const;
};

}  // namespace kiln::train
