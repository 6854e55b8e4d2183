"""Reference cases for the fused model ops: norms, SwiGLU, RoPE, attention, cross-entropy.

Each reference is the plain PyTorch (or Hugging Face) formulation, not torch's fused kernel, so the
cases also pin down the semantics kiln's fused ops promise.
"""
import math

import torch
import torch.nn.functional as F
from opcase import Case, ints, randn


def rms_norm_ref(x, w=None, eps=1e-6):
    # Hugging Face LlamaRMSNorm
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if w is None else y * w


def norm_cases():
    for shape, eps in [((2, 5, 16), 1e-6), ((7, 33), 1e-5), ((1, 1), 1e-6), ((3, 130), 1e-6)]:
        tag = "x".join(map(str, shape))
        x, w = randn(*shape), randn(shape[-1], std=0.5) + 1
        yield Case(f"rms_norm_{tag}", "rms_norm", [x, w],
                   lambda a, b, e=eps: rms_norm_ref(a, b, e), params={"eps": eps})
    yield Case("rms_norm_noweight", "rms_norm", [randn(3, 24)], lambda a: rms_norm_ref(a),
               params={"eps": 1e-6})
    # A large-offset row: the mean of squares, not a variance, is what RMSNorm divides by.
    yield Case("rms_norm_offset", "rms_norm", [randn(4, 17) + 3.0, randn(17)],
               lambda a, b: rms_norm_ref(a, b, 1e-5), params={"eps": 1e-5})

    for shape, affine in [((2, 5, 16), "wb"), ((7, 33), "w"), ((3, 130), "wb"), ((4, 9), ""),
                          ((1, 1, 3), "b")]:
        tag = "x".join(map(str, shape)) + (f"_{affine}" if affine else "_none")
        d = shape[-1]
        ins = [randn(*shape, std=2.0) + 0.5]
        if "w" in affine:
            ins.append(randn(d, std=0.5) + 1)
        if "b" in affine:
            ins.append(randn(d))

        def ref(x, *p, affine=affine, d=d):
            w = p[0] if "w" in affine else None
            b = p[-1] if "b" in affine else None
            return F.layer_norm(x, (d,), w, b, 1e-5)

        yield Case(f"layer_norm_{tag}", "layer_norm", ins, ref,
                   params={"eps": 1e-5, "weight": "w" in affine, "bias": "b" in affine})


def swiglu_cases():
    for shape in [(4, 37), (2, 3, 16), (1, 1)]:
        tag = "x".join(map(str, shape))
        yield Case(f"swiglu_{tag}", "swiglu", [randn(*shape, std=2.0), randn(*shape)],
                   lambda g, u: F.silu(g) * u)
    # Large |gate|: silu saturates to 0 and to the identity without overflow.
    g = torch.tensor([[-120.0, -30.0, -5.0, 0.0, 5.0, 30.0, 120.0]], dtype=torch.float64)
    yield Case("swiglu_saturate", "swiglu", [g, randn(1, 7)], lambda g, u: F.silu(g) * u)
    # Both halves of one fused gate_up projection, taken as strided views.
    yield Case("swiglu_fused_halves", "swiglu_fused", [randn(3, 5, 2 * 21)],
               lambda gu: F.silu(gu.chunk(2, -1)[0]) * gu.chunk(2, -1)[1])


def rope_tables(positions, rot, theta):
    """cos, sin [Bc, T, rot/2] for integer positions [Bc, T], as Hugging Face computes them."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    freqs = positions.to(torch.float64)[..., None] * inv_freq
    return freqs.cos(), freqs.sin()


def rope_ref(x, cos_half, sin_half):
    # Hugging Face apply_rotary_pos_emb with cat(freqs, freqs), on the first `rot` dims.
    cos = torch.cat([cos_half, cos_half], -1)[:, None]
    sin = torch.cat([sin_half, sin_half], -1)[:, None]
    rot = cos.shape[-1]
    xr, xp = x[..., :rot], x[..., rot:]
    rotated = torch.cat([-xr[..., rot // 2:], xr[..., :rot // 2]], -1)
    return torch.cat([xr * cos + rotated * sin, xp], -1)


def rope_cases():
    b, h, t = 2, 3, 5
    # Per-batch positions (a left-padded batch): the second sequence starts 3 later.
    pos = torch.stack([torch.arange(t), torch.arange(t) + 3])
    cos, sin = rope_tables(pos, 16, 10000.0)
    yield Case("rope_full_per_batch", "rope", [randn(b, h, t, 16), cos, sin], rope_ref,
               grad=[True, False, False])
    # Partial rotary: 8 of 24 dims rotate; one table shared by the batch.
    cos, sin = rope_tables(torch.arange(t)[None] + 100, 8, 10000.0)
    yield Case("rope_partial", "rope", [randn(b, h, t, 24), cos, sin], rope_ref,
               grad=[True, False, False])
    # One decode step at a large position, Llama-3's theta.
    cos, sin = rope_tables(torch.tensor([[4000]]), 32, 500000.0)
    yield Case("rope_decode", "rope", [randn(1, 4, 1, 32), cos, sin], rope_ref,
               grad=[True, False, False])
    # x as [B, T, H, D] transposed to [B, H, T, D] (how projections arrive): strided input.
    cos, sin = rope_tables(torch.arange(7)[None], 12, 10000.0)
    yield Case("rope_strided", "rope_bthd", [randn(2, 7, 3, 12), cos, sin],
               lambda x, c, s: rope_ref(x.transpose(1, 2), c, s), grad=[True, False, False])


def attention_ref(q, k, v, bias=None, key_padding=None, causal=True, scale=None, window=0,
                  q_offset=None):
    """Explicit softmax(q k^T * scale + bias + mask) v, GQA by repeat_interleave."""
    b, hq, t, d = q.shape
    s_len = k.shape[2]
    g = hq // k.shape[1]
    k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    s = q @ k.transpose(-1, -2) * (scale if scale else 1.0 / math.sqrt(d))
    if bias is not None:
        s = s + bias
    off = s_len - t if q_offset is None else q_offset
    pos = torch.arange(t)[:, None] + off
    j = torch.arange(s_len)[None]
    masked = torch.zeros(t, s_len, dtype=torch.bool)
    if causal:
        masked |= j > pos
    if window:
        masked |= j <= pos - window
    masked = masked[None, None].expand(b, hq, t, s_len)
    if key_padding is not None:
        masked = masked | key_padding.bool()[:, None, None, :]
    # Rows with every key masked output zeros (softmax alone would give NaN).
    empty = masked.all(-1, keepdim=True)
    s = s.masked_fill(masked, -math.inf).masked_fill(empty, 0.0)
    p = torch.softmax(s, -1).masked_fill(empty, 0.0)
    return p @ v


def alibi(hq, t, s_len, q_offset):
    slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / hq) for h in range(hq)], dtype=torch.float64)
    dist = (torch.arange(t)[:, None] + q_offset) - torch.arange(s_len)[None]
    return -slopes[:, None, None] * dist.abs().to(torch.float64)


def attention_cases():
    def case(name, b, hq, hkv, t, s_len, d, dv=None, bias=None, key_padding=None, **opt):
        dv = dv or d
        ins = [randn(b, hq, t, d), randn(b, hkv, s_len, d), randn(b, hkv, s_len, dv)]
        grad = [True, True, True]
        params = dict(opt)
        if bias is not None:
            ins.append(bias)
            grad.append(False)
            params["bias"] = True
        if key_padding is not None:
            ins.append(key_padding)
            grad.append(False)
            params["key_padding"] = True

        def ref(q, k, v, *extra):
            it = iter(extra)
            bs = next(it) if bias is not None else None
            kp = next(it) if key_padding is not None else None
            return attention_ref(q, k, v, bs, kp, **opt)

        return Case(f"attention_{name}", "attention", ins, ref, grad=grad, params=params)

    yield case("causal", 2, 2, 2, 7, 7, 16, causal=True)
    yield case("noncausal", 1, 3, 3, 5, 33, 24, causal=False)
    yield case("gqa", 2, 4, 2, 9, 9, 16, causal=True)
    yield case("mqa_dv", 1, 4, 1, 7, 7, 16, dv=24, causal=True)
    yield case("decode", 2, 4, 2, 1, 33, 16, causal=True)  # q_offset = S - T: a KV-cache step
    yield case("chunk", 1, 2, 1, 7, 33, 16, causal=True)
    yield case("q_offset", 1, 2, 2, 5, 20, 16, causal=True, q_offset=3)
    yield case("scale", 1, 2, 2, 6, 6, 16, causal=True, scale=0.3)
    # Past one 64-key block: tiles, tails and block skipping.
    yield case("long_gqa", 1, 4, 2, 130, 130, 16, causal=True)
    yield case("long_noncausal", 1, 2, 2, 70, 75, 8, causal=False)
    yield case("window", 1, 2, 2, 70, 70, 16, causal=True, window=5)
    yield case("window_decode", 1, 2, 1, 1, 70, 16, causal=True, window=16)
    yield case("alibi", 1, 4, 4, 7, 7, 16, bias=alibi(4, 7, 7, 0)[None], causal=True)
    yield case("alibi_bcast", 2, 4, 2, 5, 9, 16, bias=alibi(4, 1, 9, 8), causal=True)
    # q, k, v as [B, T, H, D] projections transposed to [B, H, T, D]: strided operands.
    yield Case("attention_strided", "attention_bthd",
               [randn(2, 70, 4, 16), randn(2, 70, 2, 16), randn(2, 70, 2, 16)],
               lambda q, k, v: attention_ref(*(x.transpose(1, 2) for x in (q, k, v))))
    kp = torch.zeros(2, 7, dtype=torch.uint8)
    kp[0, :3] = 1  # queries 0-2 of batch 0 see no key at all
    kp[1, 5] = 1
    yield case("key_padding", 2, 2, 2, 7, 7, 16, key_padding=kp, causal=True)
    kp = torch.zeros(1, 33, dtype=torch.uint8)
    kp[0, 10:20] = 1
    yield case("key_padding_noncausal", 1, 2, 1, 4, 33, 16, key_padding=kp, causal=False)


def cross_entropy_ref(logits, targets, ignore_index=-100, label_smoothing=0.0, z_loss=0.0,
                      focal_gamma=0.0):
    targets = targets.long()  # torch takes only i64 class indices
    if focal_gamma:
        # Focal loss as its paper defines it, composed from torch ops (torch has no fused one).
        valid = targets != ignore_index
        lp = F.log_softmax(logits, -1)[valid].gather(1, targets[valid].unsqueeze(1)).squeeze(1)
        loss = (-(1 - lp.exp()) ** focal_gamma * lp).mean()
    else:
        loss = F.cross_entropy(logits, targets, ignore_index=ignore_index,
                               label_smoothing=label_smoothing)
    if z_loss:
        valid = targets != ignore_index
        loss = loss + z_loss * (torch.logsumexp(logits, -1)[valid] ** 2).mean()
    return loss


def cross_entropy_cases():
    def case(name, n, v, targets, **opt):
        return Case(f"cross_entropy_{name}", "cross_entropy", [randn(n, v, std=2.0), targets],
                    lambda x, t: cross_entropy_ref(x, t, **opt), params=opt)

    yield case("basic", 6, 11, ints(11, 6))
    yield case("i32", 5, 7, ints(7, 5, dtype=torch.int32))
    yield case("wide", 3, 300, ints(300, 3))
    t = ints(13, 8)
    t[[1, 4, 5]] = -100
    yield case("ignore", 8, 13, t)
    t = ints(9, 10)
    t[t == 2] = 0
    yield case("ignore_zero", 10, 9, t, ignore_index=0)
    t = ints(13, 8)
    t[[0, 6]] = -100
    yield case("smoothing", 8, 13, t, label_smoothing=0.1)
    yield case("z_loss", 8, 13, ints(13, 8), z_loss=1e-2)
    t = ints(33, 7)
    t[2] = -100
    yield case("all_options", 7, 33, t, label_smoothing=0.2, z_loss=1e-3)
    yield case("focal", 8, 13, ints(13, 8), focal_gamma=2.0)
    yield case("focal_half_zloss", 7, 33, t, focal_gamma=0.5, z_loss=1e-3)
    # Logits near 1000: exp overflows unless the row max is subtracted. Multiples of 4 are exact in
    # bf16, so every backend sees the same logits.
    x = 1000.0 + 4.0 * ints(6, 4, 33).to(torch.float64)
    yield Case("cross_entropy_big", "cross_entropy", [x, ints(33, 4)],
               lambda a, b: cross_entropy_ref(a, b), params={})


def cases():
    yield from norm_cases()
    yield from swiglu_cases()
    yield from rope_cases()
    yield from attention_cases()
    yield from cross_entropy_cases()
