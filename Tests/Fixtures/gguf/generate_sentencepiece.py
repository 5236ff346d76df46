"""Writes sp-vocab.gguf, a tokenizer-only GGUF with a SentencePiece (`llama`) vocabulary as llama.cpp
stores one: <unk>/<s>/</s>, the 256 byte tokens <0x00>..<0xFF>, pieces with "▁" for spaces and
scores but no merges (transformers derives them from the scores), control and user-defined tokens.
Then sp-tokens.json: the ids transformers' AutoTokenizer.from_pretrained(dir, gguf_file=...) gives
for a corpus (with its special tokens added), and its decoding of them.
Tests/TokenizersTests/GGUFTokenizerReferenceTests.swift compares Eckart's GGUF tokenizer with both.

Usage: python generate_sentencepiece.py   (the fixture venv: transformers, gguf)
Deterministic; rewrites MANIFEST.sha256 over this folder's generated files.
"""
import hashlib
import json
import pathlib

from gguf import GGUFWriter
from transformers import AutoTokenizer

here = pathlib.Path(__file__).parent
path = here / "sp-vocab.gguf"

letters = list("abcdefghijklmnopqrstuvwxyzTHé") + ["▁", ",", "!", "?", "'"]
pieces = ["▁t", "he", "▁the", "▁a", "an", "▁an", "in", "▁in", "er", "▁w", "or", "ld", "▁wor", "▁world", "▁h", "el", "lo",
          "▁hel", "▁hello", "▁c", "at", "▁cat", "▁s", "▁sat", "on", "▁on", "▁m", "▁mat", "ing", "▁th", "is", "▁is", "▁it",
          "▁caf", "▁café", "▁T", "▁The", "ea", "▁ea", "▁eat", "▁eating", "ou", "▁y", "▁you", "'s", "'ll", "▁▁", "▁▁▁▁"]
tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + letters + pieces + ["<|im_start|>", "<|im_end|>", "<think>"]
types = [2, 3, 3] + [6] * 256 + [1] * (len(letters) + len(pieces)) + [3, 3, 4]
# Letters score low; longer pieces higher, with ties (equal scores) on purpose: the merge order
# then falls to the lengths of the halves and the order of the vocabulary.
scores = [0.0] * 259 + [-10.0] * len(letters) + [-1.0 - (i % 7) * 0.25 for i in range(len(pieces))] + [0.0] * 3

w = GGUFWriter(str(path), "llama")
w.add_tokenizer_model("llama")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
w.add_bos_token_id(1)
w.add_eos_token_id(2)
w.add_unk_token_id(0)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

tokenizer = AutoTokenizer.from_pretrained(str(here), gguf_file=path.name)
corpus = [
    "Hello world",
    "the cat sat on the mat.",
    "The café, you'll see, is eating!",
    "  two  spaces and    four",
    "ünïcode ☃ 日本 🤗",
    "<|im_start|>user\nhi<|im_end|><think>",
    "THE END?",
    "",
]
cases = []
for text in corpus:
    ids = tokenizer.encode(text, add_special_tokens=True)
    cases.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=True)})
(here / "sp-tokens.json").write_text(json.dumps({"vocabulary_size": len(tokenizer), "cases": cases},
                                                ensure_ascii=False, indent=1) + "\n")
print("wrote", path, "and sp-tokens.json")

outputs = [n for n in ["sp-tokens.json", "sp-vocab.gguf", "tiny-llama.gguf", "tiny-llama.json"] if (here / n).exists()]
(here / "MANIFEST.sha256").write_text("".join(f"{hashlib.sha256((here / n).read_bytes()).hexdigest()}  {n}\n" for n in outputs))
