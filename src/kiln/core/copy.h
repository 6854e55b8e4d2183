#pragma once
// Strided, dtype-converting copy and fill: the only kernels core needs (for contiguous(), to(),
// fill_()). Other backends register their versions at start-up.
#include "kiln/core/tensor.h"

namespace kiln {

using CopyFn = void (*)(const Tensor& dst, const Tensor& src);
using FillFn = void (*)(const Tensor& dst, double value);
void register_copy_kernels(DeviceType t, CopyFn copy, FillFn fill);

// dst and src have the same shape and device.
void copy_tensor(const Tensor& dst, const Tensor& src);
void fill_tensor(const Tensor& dst, double value);

}  // namespace kiln
