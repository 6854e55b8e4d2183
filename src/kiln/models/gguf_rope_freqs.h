#pragma once
// Llama-3 RoPE scaling in GGUF. llama.cpp has no metadata keys for it: its converter stores the
// divisor of each rotary frequency as the f32 tensor rope_freqs.weight [rotary_dim / 2] and
// llama.cpp divides the frequencies by it. kiln writes that tensor for rope_type llama3 and, on
// load, recovers llama3 parameters that reproduce it.
#include <string>
#include <vector>

#include "kiln/nn/rotary.h"

namespace kiln::models {

// default inv_freq[i] / llama3 inv_freq[i] for a llama3 config.
std::vector<float> llama3_freq_factors(const nn::RopeConfig& c);

// Llama-3 scaling whose factors equal `factors` (within 1e-4 relative) for the frequencies of
// `base` (its theta, head_dim, partial rotary). The formula depends on original_max_position,
// low_freq_factor and high_freq_factor only through orig / (high - low) and low / (high - low), so
// low_freq_factor = 1 is chosen and the other two follow. Needs at least two frequencies between
// the kept and the fully scaled ones; throws kiln::Error naming `where` otherwise.
nn::RopeScaling llama3_from_freq_factors(const std::vector<float>& factors,
                                         const nn::RopeConfig& base, const std::string& where);

}  // namespace kiln::models
