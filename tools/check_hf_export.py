#!/usr/bin/env python3
"""Checks that models kiln exports in Hugging Face layout load in `transformers` without custom code
and give the logits kiln computed. Run on a machine with torch + transformers (the GPU machine):

    python3 tools/check_hf_export.py CASE_DIR...

Each CASE_DIR holds `model/` (written by `kiln convert --model X --to hf --out CASE_DIR/model`),
`ids.json` (one token sequence) and `kiln_logits.bin` (`kiln logits --model CASE_DIR/model
--ids ... --out kiln_logits.bin`: raw little-endian f32 [T, V]). tools/make_hf_export_cases.sh
writes them. Prints the max abs logit difference per case; exits 1 if any exceeds 1e-4.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

TOL = 1e-4


def main(dirs):
    worst = 0.0
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    for d in dirs:
        ids = json.load(open(os.path.join(d, "ids.json")))
        model = AutoModelForCausalLM.from_pretrained(os.path.join(d, "model"), torch_dtype=torch.float32,
                                                     attn_implementation="eager")
        model.eval()
        with torch.no_grad():
            ref = model(torch.tensor([ids])).logits[0].double().numpy()
        kiln = np.fromfile(os.path.join(d, "kiln_logits.bin"), dtype="<f4").reshape(ref.shape)
        diff = float(np.abs(ref - kiln).max())
        worst = max(worst, diff)
        print(f"{os.path.basename(d.rstrip('/'))}: {type(model).__name__} T={len(ids)} "
              f"V={ref.shape[1]} max|diff|={diff:.3g} {'ok' if diff <= TOL else 'FAIL'}")
    print(f"worst {worst:.3g} (tolerance {TOL})")
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
