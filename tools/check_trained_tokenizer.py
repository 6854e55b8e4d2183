#!/usr/bin/env python3
"""Checks that transformers loads a tokenizer written by `kiln tokenizer train` and encodes and
decodes as kiln does. Run where transformers is installed (the GPU machine):
    python3 tools/check_trained_tokenizer.py TOKENIZER_DIR EXPECT.json
EXPECT.json: {"texts": [...], "ids": [[...], ...]} with kiln's ids (`kiln tokenize --jsonl`).
"""
import json
import sys

from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained(sys.argv[1])
expect = json.load(open(sys.argv[2]))
bad = 0
for text, ids in zip(expect["texts"], expect["ids"]):
    got = tok.encode(text, add_special_tokens=False)
    back = tok.decode(ids)
    if got != ids or back != text:
        bad += 1
        print("MISMATCH", repr(text), got, ids, repr(back))
print(f"{type(tok).__name__} vocab {len(tok)}: {len(expect['texts']) - bad}/{len(expect['texts'])} match")
sys.exit(1 if bad else 0)
