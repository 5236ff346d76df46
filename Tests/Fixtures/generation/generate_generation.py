#!/usr/bin/env python3
"""Reference fixtures for Eckart's text generation, computed with transformers' greedy generate().

How to run (from the package root, well under a minute):

    /work/venv/bin/python Tests/Fixtures/generation/generate_generation.py

Written against torch 2.13 (CPU), transformers 5.23 and peft 0.21. No network. What it writes, next
to this file:

    models/<name>/   tiny random-weight decoders whose vocabulary is a real trained tokenizer from
                     ../tokenizers (copied verbatim as tokenizer.json), with tokenizer_config.json
                     (incl. a short ChatML-style chat_template), config.json, generation_config.json
                     and model.safetensors:
                       llama-sp    LlamaForCausalLM, SentencePiece-BPE tokenizer (bpe-sentencepiece)
                       qwen2-bl    Qwen2ForCausalLM, byte-level BPE tokenizer (bpe-qwen2)
    adapters/<name>-lora/   one PEFT LoRA per model (random non-zero A and B, so outputs change).
    cases.json       {"<model>": [{"prompt", "prompt_ids", "adapter", "generated", "text",
                     "finished_by_eos"}]}: for each prompt, the ids AutoTokenizer gives, the ids
                     greedy generate() (do_sample=False, max_new_tokens=16) appends, with and without
                     the adapter (PeftModel), and the decoded text (skip_special_tokens=True; a final
                     EOS id is not part of the text).
    MANIFEST.sha256  pins every file above (checked by the Swift tests).

EOS: config.json names the tokenizer's real end token; generation_config.json names a list of that
id and one ordinary token that the base model greedily emits early for the first prompt, so some
cases stop on EOS (and the generation_config list, not config.json, must be what decides).
The script is deterministic; it rewrites only the files listed above.
"""
import hashlib
import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, Qwen2Config

HERE = Path(__file__).resolve().parent
TOKENIZERS = HERE.parent / "tokenizers"
MAX_NEW_TOKENS = 16
PROMPTS = [
    "The quick brown fox",
    "Once upon a time, there was",
    "Numbers: 12, 345 and 6789.",
    "Grüße aus Zürich — naïve café ☕",
    "日本語のテキスト",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + END + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def randomize(model: torch.nn.Module, seed: int, std: float) -> None:
    """Weights N(0, std), norms 1 + N(0, 0.1): HF's own init makes tiny models nearly constant."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if "norm" in name:
            p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
        else:
            p.copy_(std * torch.randn(p.shape, generator=g))


def write_tokenizer(directory: Path, source: str, bos: str | None, eos: str, end: str) -> None:
    shutil.copyfile(TOKENIZERS / f"{source}.json", directory / "tokenizer.json")
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "model_max_length": 128,
        "chat_template": CHAT_TEMPLATE.replace("END", repr(end)),
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def greedy(model, ids: list[int], eos: list[int]) -> list[int]:
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=MAX_NEW_TOKENS, do_sample=False, eos_token_id=eos, pad_token_id=eos[0])
    return out[0, len(ids):].tolist()


def make(name: str, config, source: str, bos: str | None, eos: str, end: str, seed: int) -> list[dict]:
    directory = HERE / "models" / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    seed_everything(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    randomize(model, seed, std=0.2)
    write_tokenizer(directory, source, bos, eos, end)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    real_eos = config.eos_token_id
    # The early EOS: the base model's 4th greedy token for the first prompt.
    first = greedy(model, tokenizer(PROMPTS[0])["input_ids"], [real_eos])
    extra_eos = first[3]
    assert extra_eos != real_eos and first.index(extra_eos) == 3, first
    model.generation_config.eos_token_id = [real_eos, extra_eos]
    model.generation_config.bos_token_id = config.bos_token_id
    model.generation_config.pad_token_id = None
    model.save_pretrained(directory)

    adapter_dir = HERE / "adapters" / f"{name}-lora"
    shutil.rmtree(adapter_dir, ignore_errors=True)
    base = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
    seed_everything(seed + 1)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"]))
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for pname, p in peft_model.named_parameters():
            if ".lora_A." in pname or ".lora_B." in pname:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    peft_model.peft_config["default"].base_model_name_or_path = name
    peft_model.save_pretrained(adapter_dir, save_embedding_layers=False)
    (adapter_dir / "README.md").unlink(missing_ok=True)
    # peft keeps target_modules as a set (saved order depends on PYTHONHASHSEED): sort it, in
    # peft's own format (indent 2, sorted keys, no final newline), so the file is reproducible.
    config_path = adapter_dir / "adapter_config.json"
    adapter_config = json.loads(config_path.read_text())
    adapter_config["target_modules"] = sorted(adapter_config["target_modules"])
    config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True))

    cases = []
    base = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
    eos_ids = list(base.generation_config.eos_token_id)
    for adapter in [None, f"{name}-lora"]:
        runner = base if adapter is None else PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager"),
            adapter_dir).eval()
        for prompt in PROMPTS:
            ids = tokenizer(prompt)["input_ids"]
            generated = greedy(runner, ids, eos_ids)
            by_eos = bool(generated) and generated[-1] in eos_ids
            text_ids = generated[:-1] if by_eos else generated
            cases.append({"prompt": prompt, "prompt_ids": ids, "adapter": adapter, "generated": generated,
                          "text": tokenizer.decode(text_ids, skip_special_tokens=True), "finished_by_eos": by_eos})
    assert any(c["finished_by_eos"] for c in cases), "no case stops on EOS"
    assert any(len(c["generated"]) == MAX_NEW_TOKENS for c in cases), "every case stops early"
    base_outputs = [c["generated"] for c in cases if c["adapter"] is None]
    adapter_outputs = [c["generated"] for c in cases if c["adapter"] is not None]
    assert base_outputs != adapter_outputs, "the adapter changes nothing"
    assert all(len(set(c["generated"])) > 2 for c in cases if not c["finished_by_eos"]), "degenerate repetition"
    return cases


def main() -> None:
    llama = LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        intermediate_size=128, vocab_size=936, tie_word_embeddings=False, max_position_embeddings=128,
                        rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)
    qwen2 = Qwen2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        intermediate_size=128, vocab_size=689, tie_word_embeddings=True, max_position_embeddings=128,
                        rms_norm_eps=1e-6, bos_token_id=None, eos_token_id=0)
    cases = {
        "llama-sp": make("llama-sp", llama, "bpe-sentencepiece", "<s>", "</s>", "</s>", seed=7),
        "qwen2-bl": make("qwen2-bl", qwen2, "bpe-qwen2", None, "<|endoftext|>", "<|endoftext|>", seed=11),
    }
    with open(HERE / "cases.json", "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)
        f.write("\n")
    files = sorted(p for p in HERE.rglob("*") if p.is_file() and p.name not in {"MANIFEST.sha256"} and p.suffix != ".py")
    with open(HERE / "MANIFEST.sha256", "w") as f:
        for path in files:
            f.write(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(HERE)}\n")


if __name__ == "__main__":
    main()
