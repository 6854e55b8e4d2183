#include "kiln/ops/embedding.h"

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<EmbeddingFn> embedding_kernel{"embedding", &cpu::embedding};
Kernel<EmbeddingBackwardFn> embedding_backward_kernel{"embedding_backward",
                                                      &cpu::embedding_backward};

namespace {

// Checks ids on the host before any kernel runs, so a bad id is an error, not a wild read.
void check_ids(const char* op, const Tensor& ids, int64_t vocab) {
  check_defined(op, ids, "ids");
  KILN_REQUIRE(ids.dtype() == DType::I32 || ids.dtype() == DType::I64, op,
               ": ids must be i32 or i64, got ", dtype_name(ids.dtype()), " with shape ",
               shape_str(ids.sizes()));
  if (ids.numel() == 0) return;
  Tensor host = ids.to(Device::cpu()).contiguous();
  auto scan = [&](const auto* p) {
    for (int64_t i = 0; i < host.numel(); ++i)
      KILN_REQUIRE(p[i] >= 0 && p[i] < vocab, op, ": id ", int64_t(p[i]), " at position ", i,
                   " is out of range for a vocabulary of ", vocab, " rows (ids shape ",
                   shape_str(ids.sizes()), ")");
  };
  if (host.dtype() == DType::I32) {
    scan(host.data<int32_t>());
  } else {
    scan(host.data<int64_t>());
  }
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_defined("embedding", weight, "weight");
  KILN_REQUIRE(weight.dim() == 2, "embedding: weight must be 2-D [vocab, dim], got shape ",
               shape_str(weight.sizes()));
  KILN_REQUIRE(!is_quantized(weight.dtype()), "embedding: weight of type ",
               dtype_name(weight.dtype()), " must be dequantized first");
  check_ids("embedding", ids, weight.size(0));
  check_same_device("embedding", weight, ids);
  Shape s = ids.sizes();
  s.push_back(weight.size(1));
  Tensor out = Tensor::empty(s, weight.dtype(), weight.device());
  if (out.numel() > 0)
    embedding_kernel.get(weight.device())(weight.contiguous(), ids.contiguous(), out);
  return out;
}

Tensor embedding_backward(const Tensor& dy, const Tensor& ids, int64_t vocab) {
  check_defined("embedding_backward", dy, "dy");
  check_ids("embedding_backward", ids, vocab);
  check_same_device("embedding_backward", dy, ids);
  Shape lead(dy.sizes().begin(), dy.sizes().end() - (dy.dim() > 0 ? 1 : 0));
  KILN_REQUIRE(dy.dim() == ids.dim() + 1 && lead == ids.sizes(), "embedding_backward: gradient ",
               shape_str(dy.sizes()), " does not match ids ", shape_str(ids.sizes()),
               " plus an embedding dimension");
  check_float("embedding_backward", dy);
  Tensor dw = Tensor::empty({vocab, dy.size(-1)}, dy.dtype(), dy.device());
  if (dw.numel() > 0)
    embedding_backward_kernel.get(dy.device())(dy.contiguous(), ids.contiguous(), dw);
  return dw;
}

}  // namespace kiln::ops
