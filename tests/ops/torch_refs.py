"""Generates the PyTorch reference file for the op suite.

Usage: torch_refs.py OUT.safetensors
Collects cases() from every cases_*.py beside this file, evaluates each in float64 with autograd,
and writes a safetensors file (written by hand: Debian's torch has no safetensors package) whose
__metadata__ maps each case name to a JSON description.
"""
import glob
import importlib.util
import json
import os
import struct
import sys

import torch
import zlib

DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64", torch.int32: "I32",
          torch.uint8: "U8"}


def load_cases():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    out = []
    for path in sorted(glob.glob(os.path.join(here, "cases_*.py"))):
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out.extend(mod.cases())
    return out


def evaluate(case):
    ins = [t.clone().requires_grad_(g) if g else t.clone() for t, g in zip(case.inputs, case.grad)]
    outs = case.fn(*ins)
    if not isinstance(outs, (tuple, list)):
        outs = (outs,)
    gen = torch.Generator().manual_seed(zlib.crc32(case.name.encode()))
    cots = [torch.randn(o.shape, generator=gen, dtype=torch.float64) if o.is_floating_point()
            else None for o in outs]
    need = [t for t, g in zip(ins, case.grad) if g]
    grads = []
    if need:
        total = sum((o * c).sum() for o, c in zip(outs, cots) if c is not None)
        got = torch.autograd.grad(total, need, allow_unused=True)
        it = iter(got)
        for t, g in zip(ins, case.grad):
            if g:
                gr = next(it)
                grads.append(torch.zeros_like(t) if gr is None else gr)
            else:
                grads.append(None)
    else:
        grads = [None] * len(ins)
    return [o.detach() for o in outs], cots, grads


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, off = [], 0
    for name, t in tensors:
        t = t.contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    tensors, meta = [], {}
    names = set()
    for c in load_cases():
        assert c.name not in names, f"duplicate case name {c.name}"
        names.add(c.name)
        outs, cots, grads = evaluate(c)
        for i, t in enumerate(c.inputs):
            tensors.append((f"{c.name}/in{i}", t))
        for i, (o, cot) in enumerate(zip(outs, cots)):
            tensors.append((f"{c.name}/out{i}", o))
            if cot is not None:
                tensors.append((f"{c.name}/cot{i}", cot))
        for i, g in enumerate(grads):
            if g is not None:
                tensors.append((f"{c.name}/grad{i}", g))
        meta[c.name] = json.dumps({"op": c.op, "params": c.params, "n_in": len(c.inputs),
                                   "n_out": len(outs), "grad": c.grad, "fd": c.fd})
    write_safetensors(sys.argv[1], tensors, meta)
    print(f"torch_refs: {len(names)} cases -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
