#pragma once
// Argument checks shared by op front ends; each throws kiln::Error naming the op.
#include "kiln/core/tensor.h"

namespace kiln::ops {

void check_defined(const char* op, const Tensor& t, const char* arg);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_float(const char* op, const Tensor& t);
void check_dim(const char* op, const Tensor& t, int64_t dim, const char* arg);
void check_min_dim(const char* op, const Tensor& t, int64_t dim, const char* arg);

}  // namespace kiln::ops
