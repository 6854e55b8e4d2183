"""Reference trajectories from torch.optim for kiln's optimizers and schedules.

Usage: optim_refs.py OUT.safetensors. Writes, per case, the initial parameter, the gradient of each
step and the parameter after each step (float64 math in torch on float32 tensors, as kiln keeps f32
master weights), plus OneCycleLR rates.
"""
import json
import os
import struct
import sys

import torch

torch.manual_seed(0)
STEPS = 6


def write(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, t in tensors:
        b = t.contiguous().numpy().tobytes()
        dt = {torch.float32: "F32", torch.float64: "F64"}[t.dtype]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def trajectory(name, make_opt, lrs, shape=(7, 5)):
    p = torch.nn.Parameter(torch.randn(shape))
    out = [(f"{name}/p0", p.detach().clone())]
    opt = make_opt([p])
    for s in range(STEPS):
        g = torch.randn(shape)
        p.grad = g.clone()
        for grp in opt.param_groups:
            grp["lr"] = lrs[s]
        opt.step()
        out += [(f"{name}/g{s}", g), (f"{name}/p{s + 1}", p.detach().clone())]
    return out


def main():
    lrs = [1e-2, 2e-2, 3e-2, 2.5e-2, 1e-2, 5e-3]
    tensors = [("lrs", torch.tensor(lrs, dtype=torch.float64))]
    tensors += trajectory("adamw", lambda ps: torch.optim.AdamW(ps, betas=(0.9, 0.95), eps=1e-8,
                                                                weight_decay=0.1), lrs)
    tensors += trajectory("adamw_nodecay", lambda ps: torch.optim.AdamW(ps, betas=(0.8, 0.99),
                                                                        eps=1e-6, weight_decay=0.0), lrs)
    tensors += trajectory("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), lrs)
    tensors += trajectory("sgd_nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), lrs)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=50, pct_start=0.3,
                                                anneal_strategy="cos", div_factor=25.0,
                                                final_div_factor=1e4, three_phase=False)
    rates = []
    for _ in range(50):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    tensors.append(("one_cycle", torch.tensor(rates, dtype=torch.float64)))
    write(sys.argv[1], tensors, {"steps": str(STEPS)})


main()
