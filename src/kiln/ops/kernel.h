#pragma once
// The backend seam. Each op declares one Kernel<Fn> holding a function per device type: the CPU
// entry is set where the op is defined; a CUDA backend fills its entry at start-up with
// KILN_REGISTER_CUDA_KERNEL. An op's front end (shape rule, output allocation) is written once and
// calls kernel.get(device)(...).
#include "kiln/core/device.h"
#include "kiln/core/error.h"

namespace kiln::ops {

template <class Fn>
struct Kernel {
  const char* name;
  Fn cpu = nullptr;
  Fn cuda = nullptr;

  Fn get(Device d) const {
    Fn f = d.is_cpu() ? cpu : cuda;
    KILN_REQUIRE(f, name, ": no kernel for device ", d.str());
    return f;
  }
};

template <class Fn>
struct CudaKernelRegistrar {
  CudaKernelRegistrar(Kernel<Fn>& k, Fn f) { k.cuda = f; }
};

}  // namespace kiln::ops

#define KILN_REGISTER_CUDA_KERNEL(kernel, fn) \
  static ::kiln::ops::CudaKernelRegistrar kiln_cuda_reg_##fn(kernel, &fn)
