#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the cuda preset (sm_90a by default) and runs the op
# suite, where every op case runs on the CPU and on CUDA in f64, f32 and bf16 against PyTorch's
# float64 references (finite differences on the f64 backends), the CUDA backend's own tests, and
# then the rest of the unit tier. Prints a pass/fail summary per step; exits non-zero on a failure.
# Usage: tests/gpu/run.sh [extra cmake args]   (KILN_GPU_JOBS sets build parallelism)
# The GPU machine's image lacks PCRE2 and cpp-httplib: run tests/gpu/pack-deps.sh here first and
# carry build/devdeps with the call.
set -uo pipefail
cd "$(dirname "$0")/../.."
jobs="${KILN_GPU_JOBS:-$(nproc)}"
source tests/gpu/devdeps.env  # PCRE2 and cpp-httplib when carried (tests/gpu/pack-deps.sh)
python="$(command -v python3)"
cmake --preset cuda -DKILN_PYTHON="$python" -DKILN_WERROR=OFF "$@" >/dev/null || exit 1
cmake --build build/cuda -j"$jobs" || exit 1
status=0
step() {  # step NAME COMMAND...: runs it, keeps its log's last lines in the summary
  local name=$1
  shift
  echo "== $name"
  if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; status=1; fi
}
step "op suite (CPU and CUDA)" build/cuda/tests/ops/test_ops --gtest_brief=1
step "CUDA backend tests" build/cuda/tests/cuda/test_cuda
step "unit tier (rest)" ctest --test-dir build/cuda -L unit -E '^(Ops/|Cuda\.)' -j"$jobs" \
  --output-on-failure
exit $status
