"""Building blocks for op reference cases.

A case names a kiln op (looked up in the C++ runner registry), its inputs, its params and the PyTorch
function that defines the reference. torch_refs.py evaluates every case in float64 and stores
inputs, outputs, a random cotangent per output and the input gradients of sum(out * cot).
"""
import torch

_gen = torch.Generator().manual_seed(1234)


def rand(*shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, generator=_gen, dtype=torch.float64) * (hi - lo) + lo


def randn(*shape, std=1.0):
    return torch.randn(shape, generator=_gen, dtype=torch.float64) * std


def positive(*shape, lo=0.5, hi=2.0):
    return rand(*shape, lo=lo, hi=hi)


def ints(high, *shape, dtype=torch.int64, low=0):
    return torch.randint(low, high, shape, generator=_gen, dtype=dtype)


def mask(*shape, p=0.3):
    return (torch.rand(shape, generator=_gen) < p).to(torch.uint8)


class Case:
    """fn(*inputs) -> tensor or tuple of tensors; grad[i] says whether input i gets a gradient."""

    def __init__(self, name, op, inputs, fn, grad=None, params=None, fd=True):
        self.name = name
        self.op = op
        self.inputs = inputs
        self.fn = fn
        self.grad = grad if grad is not None else [t.is_floating_point() for t in inputs]
        self.params = params or {}
        self.fd = fd  # also check kiln's backward against finite differences
