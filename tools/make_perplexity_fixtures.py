#!/usr/bin/env python3
"""Sliding-window perplexity of transformers on the tiny checkpoints in tests/data/hf, for
tests/infer/perplexity_fixtures_test.cpp.

Needs torch and transformers. Run from the repository root:

    python3 tools/make_perplexity_fixtures.py tests/data/hf tests/data/hf/perplexity.json

The text is the first 600 bytes of data/tinyshakespeare.txt as byte ids (each fixture's vocabulary
holds 256 ids). Windows follow Hugging Face's perplexity guide: `context` tokens advanced by
`stride`, each window scoring only the tokens the previous windows did not, with the rest of the
window as context. A window's first token is scored only when an earlier window covers its
context, so disjoint windows (stride == context) score context - 1 tokens each, as the guide does. Log-softmax of
transformers' float32 logits is taken in float64.
"""
import json
import math
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

CASES = [(32, 32), (32, 12), (64, 16)]  # (context, stride)


def perplexity(model, ids, context, stride):
    n, scored_to, nll, windows, tokens = len(ids), 1, 0.0, 0, 0
    begin = 0
    while scored_to < n:
        end = min(begin + context, n)
        with torch.no_grad():
            logits = model(torch.tensor([ids[begin:end]])).logits[0].double()
        lp = torch.log_softmax(logits, -1)
        for j in range(max(scored_to, begin + 1), end):
            nll -= lp[j - 1 - begin, ids[j]].item()
            tokens += 1
        scored_to = end
        windows += 1
        begin += stride
    return {"nll": nll / tokens, "ppl": math.exp(nll / tokens), "tokens": tokens, "windows": windows}


def main():
    root, out = sys.argv[1], sys.argv[2]
    ids = list(open("data/tinyshakespeare.txt", "rb").read()[:600])
    res = {"transformers_version": transformers.__version__, "text": "data/tinyshakespeare.txt[:600]",
           "ids": ids, "cases": [{"context": c, "stride": s} for c, s in CASES], "models": {}}
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "ids.json")):
            continue
        m = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float32).eval()
        res["models"][name] = [perplexity(m, ids, c, s) for c, s in CASES]
        print(name, [round(r["ppl"], 4) for r in res["models"][name]])
    json.dump(res, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
