#pragma once
// Template members of Tensor.
#include <cstring>

namespace kiln {

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& v, const Shape& shape, Device dev) {
  KILN_REQUIRE(int64_t(v.size()) == numel_of(shape), "from_vector: ", v.size(),
               " values do not fill shape ", shape_str(shape));
  Tensor host = empty(shape, dtype_of<T>::value, Device::cpu());
  if (!v.empty()) std::memcpy(host.raw_data(), v.data(), v.size() * sizeof(T));
  return dev.is_cpu() ? host : host.to(dev);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor t = to(Device::cpu()).to(dtype_of<T>::value).contiguous();
  std::vector<T> out(size_t(t.numel()));
  if (!out.empty()) std::memcpy(out.data(), t.raw_data(), out.size() * sizeof(T));
  return out;
}

}  // namespace kiln
