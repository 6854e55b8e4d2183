#!/usr/bin/env python3
"""Greedy generate() of transformers on the tiny checkpoints in tests/data/hf, for
tests/infer/generate_fixtures_test.cpp.

Needs torch and transformers. Run from the repository root:

    python3 tools/make_generate_fixtures.py tests/data/hf tests/data/hf/generate.json

For every fixture folder (made by tools/make_hf_fixtures.py) it loads the model in float32 with
eager attention and greedily continues the first two sequences of its ids.json by NEW tokens.
EOS never stops generation (eos_token_id is unset, and min_new_tokens is not used because it would
mask EOS and change the argmax). "margins" holds, per new token, the gap between the best and
second-best logit, so a test can tell a real mismatch from a near tie.
"""
import copy
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

NEW = 16


def main():
    root, out = sys.argv[1], sys.argv[2]
    res = {"transformers_version": transformers.__version__, "new_tokens": NEW, "models": {}}
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "ids.json")):
            continue
        m = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager",
                                                 dtype=torch.float32).eval()
        gc = copy.deepcopy(m.generation_config)
        gc.eos_token_id, gc.do_sample, gc.max_new_tokens, gc.pad_token_id = None, False, NEW, 0
        seqs = json.load(open(os.path.join(d, "ids.json")))["sequences"][:2]
        runs = []
        for s in seqs:
            with torch.no_grad():
                o = m.generate(torch.tensor([s]), generation_config=gc, output_scores=True,
                               return_dict_in_generate=True)
            new = o.sequences[0, len(s):].tolist()
            assert len(new) == NEW, (name, len(new))
            top2 = [torch.topk(x[0].float(), 2).values for x in o.scores]
            runs.append({"prompt": s, "generated": new,
                         "margins": [round(float(t[0] - t[1]), 6) for t in top2]})
        res["models"][name] = runs
        print(name, [r["generated"][:4] for r in runs])
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
