#pragma once
// Tensor: a view (shape, strides in elements, offset) of a Storage, with a dtype and a device.
// Copying a Tensor copies a handle: both refer to the same TensorImpl.
//
// Tensor's own methods never record gradients. Views here (reshape, permute, narrow, expand, ...)
// are the raw building blocks kernels use; models call the differentiable free functions in
// kiln/autograd/functions.h, which record the tape.
#include <cstdint>
#include <memory>
#include <vector>

#include "kiln/core/dtype.h"
#include "kiln/core/error.h"
#include "kiln/core/storage.h"

namespace kiln {

using Shape = std::vector<int64_t>;

class Tensor;
namespace autograd {
class Node;
}

// Gradient bookkeeping, filled in by the autograd layer.
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<Tensor> grad;             // accumulated gradient of a leaf
  std::shared_ptr<autograd::Node> grad_fn;  // the op that produced this tensor
  int output_nr = 0;                        // which output of grad_fn
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements (blocks for quantized types)
  Shape sizes;
  Shape strides;
  DType dtype = DType::F32;
  std::shared_ptr<AutogradMeta> autograd;
};

int64_t numel_of(const Shape& s);
Shape contiguous_strides(const Shape& s);

class Tensor {
 public:
  Tensor() = default;  // undefined tensor
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories
  static Tensor empty(const Shape& shape, DType dt = DType::F32, Device dev = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dt = DType::F32, Device dev = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dt = DType::F32,
                     Device dev = Device::cpu());
  static Tensor ones(const Shape& shape, DType dt = DType::F32, Device dev = Device::cpu()) {
    return full(shape, 1.0, dt, dev);
  }
  // 0, 1, ..., n-1
  static Tensor arange(int64_t n, DType dt = DType::I64, Device dev = Device::cpu());
  // Copies host values into a new tensor of the given shape (dtype from T).
  template <class T>
  static Tensor from_vector(const std::vector<T>& v, const Shape& shape,
                            Device dev = Device::cpu());
  // Wraps existing bytes without copying; keep_alive owns them.
  static Tensor from_blob(void* data, const Shape& shape, DType dt, Device dev,
                          std::shared_ptr<void> keep_alive);

  // ---- properties
  bool defined() const { return impl_ != nullptr; }
  int64_t dim() const { return int64_t(impl().sizes.size()); }
  const Shape& sizes() const { return impl().sizes; }
  const Shape& strides() const { return impl().strides; }
  // size(-1) is the last dimension.
  int64_t size(int64_t d) const { return impl().sizes[wrap_dim(d)]; }
  int64_t stride(int64_t d) const { return impl().strides[wrap_dim(d)]; }
  int64_t numel() const { return numel_of(impl().sizes); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  int64_t offset() const { return impl().offset; }
  size_t nbytes() const { return dtype_nbytes(dtype(), numel()); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // Normalizes a possibly negative dimension; throws kiln::Error when out of range.
  int64_t wrap_dim(int64_t d) const;

  // Pointer to the first element (storage + offset).
  void* raw_data() const;
  template <class T>
  T* data() const {
    KILN_CHECK(dtype_of<T>::value == dtype(), "data<T>() with T of the wrong dtype: tensor is ",
               dtype_name(dtype()));
    return static_cast<T*>(raw_data());
  }

  // ---- views (no copy)
  Tensor view(const Shape& shape) const;     // contiguous only; one -1 allowed
  Tensor reshape(const Shape& shape) const;  // view when possible, else copy
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops dim
  Tensor expand(const Shape& shape) const;          // broadcast with stride 0
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;
  Tensor as_strided(const Shape& sizes, const Shape& strides, int64_t offset) const;

  // ---- copies
  Tensor contiguous() const;  // itself when already contiguous
  Tensor clone() const;       // always a new contiguous tensor
  Tensor to(DType dt) const;  // itself when already of dt
  Tensor to(Device dev) const;
  // Copies src into this tensor (same shape; src may be broadcast; dtypes converted).
  void copy_(const Tensor& src) const;
  void fill_(double value) const;
  void zero_() const { fill_(0.0); }

  // A tensor that shares storage but no gradient history.
  Tensor detach() const;

  // ---- host access (tests, small values)
  template <class T>
  std::vector<T> to_vector() const;
  double item() const;  // one-element tensor as double

  // ---- autograd (data only; the tape is in kiln/autograd)
  bool requires_grad() const { return impl().autograd && impl().autograd->requires_grad; }
  Tensor& set_requires_grad(bool r);
  Tensor grad() const;  // undefined when none accumulated
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  AutogradMeta& autograd_meta() const;  // creates it on first use

  TensorImpl& impl() const {
    KILN_CHECK(impl_, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Shape after broadcasting a and b (NumPy rules); throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace kiln

#include "kiln/core/tensor_inl.h"
