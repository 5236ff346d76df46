"""Writes tiny-llama.gguf with gguf-py's own GGUFWriter: a complete Llama decoder of random weights
(1 layer, hidden 64, 4 query / 2 KV heads, MLP 96, a 40-token byte-level BPE vocabulary with merges
and a chat template), its projections in Q8_0, Q4_0 and Q4_1 and its norms in F32, as llama.cpp's
converter lays them out. An independent writer for the reader and the GGUF decoder loader
(Tests/ModelsTests/GGUFWriterInteropTests.swift) and the seed of the FuzzGGUF harness.

Usage: python generate_tiny_llama.py   (needs numpy and gguf: the fixture venv has both)
Writes tiny-llama.gguf, tiny-llama.json (the row sums of every tensor as gguf-py dequantizes it, in
the file's row order) and MANIFEST.sha256 next to this script; deterministic (fixed seed).
"""
import hashlib
import pathlib

import json

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.quants import dequantize, quantize

here = pathlib.Path(__file__).parent
rng = np.random.default_rng(7)
hidden, heads, kv_heads, ffn, layers = 64, 4, 2, 96, 1
head_dim = hidden // heads

# A byte-level vocabulary: single characters, then merges of them.
letters = list("abcdefghijklmnopqrstuvwxyz") + ["Ġ", ".", ","]
merges = ["t h", "Ġ t", "Ġt h", "e r", "a n", "i n", "o n", "r e"]
tokens = letters + [m.replace(" ", "") for m in merges] + ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
types = [1] * (len(tokens) - 3) + [3, 3, 3]
vocab = len(tokens)


def tensor(*shape):
    return (rng.standard_normal(shape) * 0.2).astype(np.float32)


path = here / "tiny-llama.gguf"
w = GGUFWriter(str(path), "llama")
w.add_name("tiny-llama")
w.add_block_count(layers)
w.add_context_length(64)
w.add_embedding_length(hidden)
w.add_feed_forward_length(ffn)
w.add_head_count(heads)
w.add_head_count_kv(kv_heads)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_freq_base(10000.0)
w.add_tokenizer_model("gpt2")
w.add_tokenizer_pre("default")
w.add_token_list(tokens)
w.add_token_types(types)
w.add_token_merges(merges)
w.add_bos_token_id(tokens.index("<|im_start|>"))
w.add_eos_token_id(tokens.index("<|im_end|>"))
w.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def add(name, weights, qtype):
    if qtype == GGMLQuantizationType.F32:
        w.add_tensor(name, weights)
    else:
        w.add_tensor(name, quantize(weights, qtype), raw_dtype=qtype)


add("token_embd.weight", tensor(vocab, hidden), GGMLQuantizationType.Q8_0)
for layer in range(layers):
    p = f"blk.{layer}."
    add(p + "attn_norm.weight", 1 + tensor(hidden) * 0.5, GGMLQuantizationType.F32)
    add(p + "attn_q.weight", tensor(heads * head_dim, hidden), GGMLQuantizationType.Q4_1)
    add(p + "attn_k.weight", tensor(kv_heads * head_dim, hidden), GGMLQuantizationType.Q4_1)
    add(p + "attn_v.weight", tensor(kv_heads * head_dim, hidden), GGMLQuantizationType.Q8_0)
    add(p + "attn_output.weight", tensor(hidden, heads * head_dim), GGMLQuantizationType.Q4_0)
    add(p + "ffn_norm.weight", 1 + tensor(hidden) * 0.5, GGMLQuantizationType.F32)
    add(p + "ffn_gate.weight", tensor(ffn, hidden), GGMLQuantizationType.Q4_1)
    add(p + "ffn_up.weight", tensor(ffn, hidden), GGMLQuantizationType.Q4_1)
    add(p + "ffn_down.weight", tensor(hidden, ffn), GGMLQuantizationType.Q8_0)
add("output_norm.weight", 1 + tensor(hidden) * 0.5, GGMLQuantizationType.F32)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

sums = {}
for t in GGUFReader(str(path)).tensors:
    values = dequantize(t.data, t.tensor_type).astype(np.float64)
    sums[t.name] = [round(float(x), 6) for x in values.reshape(values.shape[0], -1).sum(axis=1)] if values.ndim > 1 \
        else [round(float(values.sum()), 6)]
(here / "tiny-llama.json").write_text(json.dumps({"row_sums": sums}, indent=1, sort_keys=True) + "\n")

outputs = [n for n in ["sp-tokens.json", "sp-vocab.gguf", "tiny-llama.gguf", "tiny-llama.json"] if (here / n).exists()]
(here / "MANIFEST.sha256").write_text("".join(f"{hashlib.sha256((here / n).read_bytes()).hexdigest()}  {n}\n" for n in outputs))
print("wrote", path, path.stat().st_size, "bytes")
