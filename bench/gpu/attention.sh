#!/usr/bin/env bash
# Causal attention TFLOP/s, kiln's CUDA kernels beside PyTorch SDPA, one run on one GPU.
# Needs build/cuda (tests/gpu/run.sh or scripts/build cuda). Usage: bench/gpu/attention.sh [B H S D]
set -euo pipefail
cd "$(dirname "$0")/../.."
nvidia-smi --query-gpu=name --format=csv,noheader
echo "commit $(git rev-parse --short HEAD 2>/dev/null || cat COMMIT 2>/dev/null || echo unknown)"
python3 bench/gpu/attention.py "$@"
build/cuda/bench/attention_gpu "$@"
