// The training loop end to end on a tiny model: exact resume, bad recipes rejected up front, and a
// non-finite loss stopping the run with the last checkpoint intact.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/core/device.h"
#include "kiln/core/error.h"
#include "kiln/train/trainer.h"

namespace kiln::train {
namespace {

namespace fs = std::filesystem;

struct TinyRun {
  fs::path dir;
  TinyRun() : dir(fs::temp_directory_path() / ("kiln_train_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "model.yaml") << R"(model_type: llama
vocab_size: 257
hidden_size: 32
intermediate_size: 64
num_hidden_layers: 2
num_attention_heads: 4
num_key_value_heads: 2
head_dim: 8
tie_word_embeddings: true
)";
    std::ofstream corpus(dir / "corpus.txt");
    for (int i = 0; i < 300; ++i)
      corpus << "To be, or not to be, that is the question " << i << ".\n";
    std::ofstream(dir / "recipe.yaml")
        << "model: " << (dir / "model.yaml").string() << "\n"
        << "data: " << (dir / "corpus.txt").string() << "\n"
        << "tokenizer: " << KILN_SOURCE_DIR << "/configs/tokenizers/shakespeare-bytes\n"
        << R"(seq_len: 32
batch_size: 4
steps: 8
lr: 3.0e-3
warmup: 2
log_every: 2
eval_every: 4
eval_batches: 2
sample_tokens: 8
checkpoint_every: 4
keep_checkpoints: 5
)";
  }
  ~TinyRun() { fs::remove_all(dir); }
  Recipe recipe(const std::string& out, std::vector<std::string> extra = {}) const {
    extra.push_back("out_dir=" + (dir / out).string());
    return Recipe::load((dir / "recipe.yaml").string(), extra);
  }
};

std::vector<double> losses(const fs::path& metrics) {
  std::vector<double> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);)
    out.push_back(nlohmann::json::parse(line)["loss"]);
  return out;
}

TEST(Trainer, ResumeIsBitIdentical) {
  TinyRun run;
  TrainResult straight = train(run.recipe("a"));
  // A crash after the step-4 checkpoint: the same run folder without what came later.
  fs::copy(run.dir / "a", run.dir / "c", fs::copy_options::recursive);
  fs::remove_all(run.dir / "c" / "checkpoints" / "step_00000008");
  TrainResult resumed = train(run.recipe("c"), true);
  EXPECT_EQ(straight.final_loss, resumed.final_loss);  // to the last bit
  EXPECT_EQ(straight.final_val_loss, resumed.final_val_loss);
  EXPECT_EQ(losses(run.dir / "a" / "metrics.jsonl"), losses(run.dir / "c" / "metrics.jsonl"));
  EXPECT_LT(straight.final_loss, 5.0);  // it learned something from ln(257) = 5.55
}

TEST(Trainer, Bf16MixedPrecisionLearnsAndResumesExactly) {
  TinyRun run;
  TrainResult f32 = train(run.recipe("f"));
  TrainResult bf16 = train(run.recipe("b", {"precision=bf16"}));
  EXPECT_NE(f32.final_loss, bf16.final_loss);  // the bf16 path really ran
  EXPECT_NEAR(f32.final_loss, bf16.final_loss, 0.15);
  // The checkpoint holds the f32 master weights, so a resumed bf16 run is exact too.
  fs::copy(run.dir / "b", run.dir / "r", fs::copy_options::recursive);
  fs::remove_all(run.dir / "r" / "checkpoints" / "step_00000008");
  TrainResult resumed = train(run.recipe("r", {"precision=bf16"}), true);
  EXPECT_EQ(bf16.final_loss, resumed.final_loss);
  EXPECT_EQ(losses(run.dir / "b" / "metrics.jsonl"), losses(run.dir / "r" / "metrics.jsonl"));
}

TEST(Trainer, BadRecipesAreRejectedBeforeTraining) {
  TinyRun run;
  auto message = [&](std::vector<std::string> o) {
    try {
      run.recipe("x", std::move(o)).validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"learning_rate=1"}).find("unknown key 'learning_rate'"), std::string::npos);
  EXPECT_NE(message({"steps=many"}).find("'steps'"), std::string::npos);
  EXPECT_NE(message({"data=/no/such/file.txt"}).find("/no/such/file.txt"), std::string::npos);
  EXPECT_NE(message({"optimizer=adam"}).find("'optimizer'"), std::string::npos);
  EXPECT_NE(message({"focal_gamma=2", "label_smoothing=0.1"}).find("'focal_gamma'"),
            std::string::npos);
  EXPECT_NE(message({"z_loss=-1"}).find("'z_loss'"), std::string::npos);
  EXPECT_NE(message({"grad_checkpointing=some"}).find("'grad_checkpointing'"), std::string::npos);
  EXPECT_NE(message({"precision=fp8"}).find("'precision'"), std::string::npos);
  EXPECT_NE(message({"device=tpu"}).find("'device'"), std::string::npos);
  EXPECT_FALSE(fs::exists(run.dir / "x"));
}

// On a GPU the same recipe trains on CUDA and tracks the CPU run (f32; summation orders differ, so
// not bit for bit); without one, asking for CUDA is a clear error.
TEST(Trainer, CudaRunTracksTheCpuRunOrIsAClearError) {
  TinyRun run;
  if (cuda_device_count() == 0) {
    try {
      train(run.recipe("g", {"device=cuda"}));
      FAIL() << "expected an error";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_TRUE(m.find("cuda") != std::string::npos || m.find("CUDA") != std::string::npos) << m;
    }
    return;
  }
  TrainResult cpu = train(run.recipe("c"));
  TrainResult gpu = train(run.recipe("g", {"device=cuda"}));
  EXPECT_NEAR(gpu.final_loss, cpu.final_loss, 0.02);
  EXPECT_NEAR(gpu.final_val_loss, cpu.final_val_loss, 0.02);
}

TEST(Trainer, ModelCheckpointsCannotHoldIsRejectedBeforeTraining) {
  TinyRun run;
  // Llama checkpoints have no QK-norm switch: found by a run that failed at its first checkpoint.
  std::ifstream in(run.dir / "model.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(run.dir / "qk.yaml") << yaml << "qk_norm: true\n";
  try {
    train(run.recipe("q", {"model=" + (run.dir / "qk.yaml").string()}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qk_norm"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(run.dir / "q" / "metrics.jsonl"));
}

TEST(Trainer, NonFiniteLossStopsWithLastCheckpointIntact) {
  TinyRun run;
  // An absurd learning rate overflows the weights within a few steps.
  try {
    train(run.recipe("n",
                     {"lr=1.0e30", "warmup=0", "clip_grad=0", "steps=40", "checkpoint_every=1"}));
    FAIL() << "expected the run to stop";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the loss is"), std::string::npos) << e.what();
  }
  // Every checkpoint left is complete (written whole, then renamed).
  int complete = 0;
  for (const auto& e : fs::directory_iterator(run.dir / "n" / "checkpoints")) {
    EXPECT_EQ(e.path().filename().string().rfind("step_", 0), 0u) << e.path();
    EXPECT_TRUE(fs::exists(e.path() / "model.safetensors"));
    EXPECT_TRUE(fs::exists(e.path() / "trainer_state.json"));
    // The tokenizer travels with the weights, so `kiln chat --model <checkpoint>` works.
    EXPECT_TRUE(fs::exists(e.path() / "tokenizer.json"));
    EXPECT_TRUE(fs::exists(e.path() / "tokenizer_config.json"));
    ++complete;
  }
  EXPECT_GE(complete, 1);
}

}  // namespace
}  // namespace kiln::train
