// Writes a starting corpus for safetensors_fuzz: small valid files of each dtype and shape kind.
#include <string>

#include "kiln/io/safetensors.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string dir = argv[1];
  using kiln::Tensor;
  kiln::io::save_safetensors(
      dir + "/a.safetensors",
      {{"w", Tensor::ones({3, 4})}, {"b", Tensor::zeros({4}, kiln::DType::BF16)}},
      {{"format", "pt"}});
  kiln::io::save_safetensors(
      dir + "/b.safetensors",
      {{"ids", Tensor::arange(7)}, {"s", Tensor::full({}, 2.0, kiln::DType::F16)}});
  return 0;
}
