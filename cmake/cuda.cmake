# The CUDA backend (-DKILN_CUDA=ON): one static library, kiln_cuda, of every .cu in
# src/kiln/core/cuda and src/kiln/ops/cuda. Its allocator, copy kernels and op kernels register
# themselves from static constructors, so it is linked whole into everything that links `kiln`
# (nothing else refers to its symbols). It compiles without a GPU; a GPU is needed only to run it.
# Hopper's own instructions (wgmma, setmaxnreg) need the arch-specific target, hence 90a.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90a)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# C++20 as the rest of kiln. CMake 3.25 does not know nvcc's flag for it, so it is named here.
if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)

file(GLOB kiln_cuda_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/kiln/core/cuda/*.cu
     ${CMAKE_CURRENT_SOURCE_DIR}/src/kiln/ops/cuda/*.cu)
add_library(kiln_cuda STATIC ${kiln_cuda_srcs})
target_include_directories(kiln_cuda PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/src>)
# nvcc's own warnings are errors; the host compiler gets the project's warning set.
target_compile_options(kiln_cuda PRIVATE --Werror all-warnings --expt-relaxed-constexpr
                       -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter)
target_link_libraries(kiln_cuda PUBLIC kiln_ops CUDA::cudart CUDA::cublas CUDA::cublasLt)
target_link_libraries(kiln INTERFACE "$<LINK_LIBRARY:WHOLE_ARCHIVE,kiln_cuda>")
target_compile_definitions(kiln INTERFACE KILN_CUDA=1)
