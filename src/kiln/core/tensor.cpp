#include "kiln/core/tensor.h"

#include <algorithm>
#include <cstring>

#include "kiln/core/copy.h"

namespace kiln {

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t d = int64_t(s.size()) - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= std::max<int64_t>(s[d], 1);
  }
  return st;
}

namespace {

void check_shape(const Shape& shape, const char* what) {
  for (int64_t d : shape)
    KILN_REQUIRE(d >= 0, what, ": negative dimension in shape ", shape_str(shape));
}

std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> st, int64_t off, Shape sizes,
                                      Shape strides, DType dt) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(st);
  impl->offset = off;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->dtype = dt;
  return impl;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dt, Device dev) {
  check_shape(shape, "empty");
  auto st = std::make_shared<Storage>(dtype_nbytes(dt, numel_of(shape)), dev);
  return Tensor(make_impl(std::move(st), 0, shape, contiguous_strides(shape), dt));
}

Tensor Tensor::zeros(const Shape& shape, DType dt, Device dev) {
  check_shape(shape, "zeros");
  auto st = std::make_shared<Storage>(dtype_nbytes(dt, numel_of(shape)), dev, true);
  return Tensor(make_impl(std::move(st), 0, shape, contiguous_strides(shape), dt));
}

Tensor Tensor::full(const Shape& shape, double value, DType dt, Device dev) {
  Tensor t = empty(shape, dt, dev);
  t.fill_(value);
  return t;
}

Tensor Tensor::arange(int64_t n, DType dt, Device dev) {
  std::vector<double> v(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) v[i] = double(i);
  return from_vector(v, {n}).to(dt).to(dev);
}

Tensor Tensor::from_blob(void* data, const Shape& shape, DType dt, Device dev,
                         std::shared_ptr<void> keep_alive) {
  check_shape(shape, "from_blob");
  auto st = std::make_shared<Storage>(data, dtype_nbytes(dt, numel_of(shape)), dev,
                                      std::move(keep_alive));
  return Tensor(make_impl(std::move(st), 0, shape, contiguous_strides(shape), dt));
}

int64_t Tensor::wrap_dim(int64_t d) const {
  int64_t n = dim();
  int64_t w = d < 0 ? d + n : d;
  KILN_REQUIRE(w >= 0 && w < n, "dimension ", d, " is out of range for a tensor of shape ",
               shape_str(sizes()));
  return w;
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element to be out of place
  int64_t expect = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sizes()[d] == 1) continue;
    if (strides()[d] != expect) return false;
    expect *= sizes()[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  const TensorImpl& t = impl();
  const DTypeInfo& i = dtype_info(t.dtype);
  // offset counts elements; for block types it counts blocks
  return static_cast<char*>(t.storage->data()) + size_t(t.offset) * i.block_bytes;
}

// ---------------------------------------------------------------- views

Tensor Tensor::as_strided(const Shape& sizes, const Shape& strides, int64_t offset) const {
  KILN_CHECK(sizes.size() == strides.size(), "as_strided: sizes and strides differ in rank");
  auto impl = make_impl(storage(), offset, sizes, strides, dtype());
  return Tensor(std::move(impl));
}

namespace {
Shape infer_shape(const Shape& shape, int64_t numel, const Shape& from) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      KILN_REQUIRE(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = int64_t(i);
    } else {
      KILN_REQUIRE(out[i] >= 0, "reshape: negative dimension in ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    KILN_REQUIRE(known > 0 && numel % known == 0, "reshape: cannot reshape ", shape_str(from),
                 " to ", shape_str(shape));
    out[infer] = numel / known;
  }
  KILN_REQUIRE(numel_of(out) == numel, "reshape: cannot reshape ", shape_str(from), " (", numel,
               " elements) to ", shape_str(shape));
  return out;
}
}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), sizes());
  KILN_REQUIRE(is_contiguous(), "view: tensor of shape ", shape_str(sizes()),
               " is not contiguous; use reshape");
  return as_strided(s, contiguous_strides(s), offset());
}

Tensor Tensor::reshape(const Shape& shape) const {
  return is_contiguous() ? view(shape) : contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  KILN_REQUIRE(int64_t(dims.size()) == dim(), "permute: ", dims.size(),
               " dims given for a tensor of shape ", shape_str(sizes()));
  Shape s(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i]);
    KILN_REQUIRE(!seen[d], "permute: dimension ", d, " repeated");
    seen[d] = true;
    s[i] = sizes()[d];
    st[i] = strides()[d];
  }
  return as_strided(s, st, offset());
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> p(static_cast<size_t>(dim()));
  for (int64_t i = 0; i < dim(); ++i) p[i] = i;
  std::swap(p[wrap_dim(d0)], p[wrap_dim(d1)]);
  return permute(p);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d);
  KILN_REQUIRE(start >= 0 && length >= 0 && start + length <= sizes()[d], "narrow: range [", start,
               ", ", start + length, ") is outside dimension ", d, " of shape ",
               shape_str(sizes()));
  Shape s = sizes();
  s[d] = length;
  return as_strided(s, strides(), offset() + start * strides()[d]);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d);
  int64_t n = sizes()[d];
  if (index < 0) index += n;
  KILN_REQUIRE(index >= 0 && index < n, "select: index ", index, " out of range for dimension ", d,
               " of shape ", shape_str(sizes()));
  Shape s = sizes(), st = strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return as_strided(s, st, offset() + index * strides()[d]);
}

Tensor Tensor::expand(const Shape& shape) const {
  KILN_REQUIRE(int64_t(shape.size()) >= dim(), "expand: cannot expand ", shape_str(sizes()), " to ",
               shape_str(shape));
  Shape st(shape.size(), 0);
  Shape s = shape;
  int64_t lead = int64_t(shape.size()) - dim();
  for (int64_t i = 0; i < int64_t(shape.size()); ++i) {
    if (i < lead) continue;
    int64_t own = sizes()[i - lead];
    if (s[i] == -1) s[i] = own;
    KILN_REQUIRE(own == s[i] || own == 1, "expand: cannot expand ", shape_str(sizes()), " to ",
                 shape_str(shape));
    st[i] = own == s[i] ? strides()[i - lead] : 0;
  }
  return as_strided(s, st, offset());
}

Tensor Tensor::unsqueeze(int64_t d) const {
  int64_t n = dim() + 1;
  if (d < 0) d += n;
  KILN_REQUIRE(d >= 0 && d < n, "unsqueeze: dimension out of range for shape ", shape_str(sizes()));
  Shape s = sizes(), st = strides();
  int64_t inner = d < dim() ? strides()[d] * sizes()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, inner);
  return as_strided(s, st, offset());
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d);
  KILN_REQUIRE(sizes()[d] == 1, "squeeze: dimension ", d, " of shape ", shape_str(sizes()),
               " is not 1");
  return select(d, 0);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = wrap_dim(start);
  end = wrap_dim(end);
  Shape s;
  for (int64_t i = 0; i < start; ++i) s.push_back(sizes()[i]);
  int64_t m = 1;
  for (int64_t i = start; i <= end; ++i) m *= sizes()[i];
  s.push_back(m);
  for (int64_t i = end + 1; i < dim(); ++i) s.push_back(sizes()[i]);
  return reshape(s);
}

// ---------------------------------------------------------------- copies

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(sizes(), dtype(), device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor out = empty(sizes(), dt, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(sizes(), dtype(), dev);
  Allocator& a = allocator_for(dev.is_cpu() ? device() : dev);
  a.copy(out.raw_data(), dev, src.raw_data(), device(), src.nbytes());
  return out;
}

void Tensor::copy_(const Tensor& src) const {
  Tensor s = src.sizes() == sizes() ? src : src.expand(sizes());
  if (s.device() != device()) s = s.to(device());
  copy_tensor(*this, s);
}

void Tensor::fill_(double value) const {
  fill_tensor(*this, value);
}

Tensor Tensor::detach() const {
  return Tensor(make_impl(storage(), offset(), sizes(), strides(), dtype()));
}

double Tensor::item() const {
  KILN_REQUIRE(numel() == 1, "item: tensor of shape ", shape_str(sizes()), " has ", numel(),
               " elements, not 1");
  return to_vector<double>()[0];
}

// ---------------------------------------------------------------- autograd data

AutogradMeta& Tensor::autograd_meta() const {
  if (!impl().autograd) impl().autograd = std::make_shared<AutogradMeta>();
  return *impl().autograd;
}

Tensor& Tensor::set_requires_grad(bool r) {
  KILN_REQUIRE(!r || is_float(dtype()), "requires_grad needs a floating tensor, this one is ",
               dtype_name(dtype()));
  autograd_meta().requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& m = impl().autograd;
  return m && m->grad ? *m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  autograd_meta().grad = g.defined() ? std::make_shared<Tensor>(g) : nullptr;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<autograd::Node> none;
  return impl().autograd ? impl().autograd->grad_fn : none;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    KILN_REQUIRE(x == y || x == 1 || y == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                 " cannot be broadcast together");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

}  // namespace kiln
