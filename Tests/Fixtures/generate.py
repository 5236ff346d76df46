#!/usr/bin/env python3
"""Reference fixtures for Eckart's Swift tests, computed with transformers + peft.

What it writes (relative to this file's directory; see README.md for the schemas):

    models/<name>/          tiny random-weight models, saved with ``save_pretrained``
    adapters/<name>/        PEFT LoRA / rsLoRA / DoRA adapters with random nonzero A, B (and magnitudes)
    expected/<case>.json    logits (decoders) or hidden states + sentence embeddings (encoders)
    safetensors/            small .safetensors files of many dtypes + expected.json
    MANIFEST.sha256         sha256sum of every file above, sorted by path

How to run (CPU only, well under a minute):

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.13.0+cpu transformers peft      # optional: sentence-transformers
    /tmp/venv/bin/python Tests/Fixtures/generate.py [--minilm DIR]

``--minilm DIR`` points at a local all-MiniLM-L6-v2 directory (config.json, model.safetensors, ...).
Without it the MiniLM cases (adapters minilm-lora and demo-minilm and their expected outputs) are
skipped. The MiniLM weights themselves are never copied here.

Every reference output is computed the way a user would: reload the model from disk in float32 with
eager attention, wrap it with ``PeftModel.from_pretrained``, ``eval()``, ``torch.no_grad()``. The
script is deterministic (fixed seeds); it deletes and rewrites models/, adapters/, expected/ and
safetensors/ on every run and leaves everything else in this directory alone.

Written against torch 2.13.0+cpu, transformers 5.23.0, peft 0.21.2, safetensors 0.8.0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import struct
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never ask the Hub

import numpy as np
import torch
import torch.nn.functional as F
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    BertConfig,
    LlamaConfig,
    MistralConfig,
    Qwen2Config,
)

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
ADAPTERS = HERE / "adapters"
EXPECTED = HERE / "expected"
SAFETENSORS = HERE / "safetensors"
GENERATED_DIRS = [MODELS, ADAPTERS, EXPECTED, SAFETENSORS]

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_TEXT = "This is a test sentence."
MINILM_TOKENS = [101, 2023, 2003, 1037, 3231, 6251, 1012, 102]

# Largest |logits - merged_logits| accepted (the README records the values actually seen).
MERGE_TOLERANCE = 1e-5

# Filled while running, printed at the end and copied by hand into README.md.
REPORT: dict[str, dict] = {}


# --------------------------------------------------------------------------------------------
# Helpers: seeds, random weights, JSON output
# --------------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def is_norm(module: torch.nn.Module) -> bool:
    return isinstance(module, torch.nn.LayerNorm) or type(module).__name__.endswith("RMSNorm")


@torch.no_grad()
def randomize_weights(model: torch.nn.Module, seed: int, linear_std: float = 0.15, embedding_std: float = 0.2) -> None:
    """Non-degenerate random weights: HF's init (std 0.02, zero biases, unit norms) makes tiny models
    nearly constant. Linear weights N(0, linear_std), embeddings N(0, embedding_std), biases N(0, 0.1),
    norm weights 1 + N(0, 0.1). Tied parameters are visited once (named_parameters deduplicates)."""
    g = generator(seed)
    owner = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owner.setdefault(id(p), module)
    for name, p in model.named_parameters():
        module = owner[id(p)]
        leaf = name.rsplit(".", 1)[-1]
        if is_norm(module):
            values = 1 + 0.1 * torch.randn(p.shape, generator=g) if leaf == "weight" else 0.1 * torch.randn(p.shape, generator=g)
        elif isinstance(module, torch.nn.Embedding):
            values = embedding_std * torch.randn(p.shape, generator=g)
        elif leaf == "bias":
            values = 0.1 * torch.randn(p.shape, generator=g)
        else:
            values = linear_std * torch.randn(p.shape, generator=g)
        p.copy_(values.to(p.dtype))


@torch.no_grad()
def randomize_adapter(peft_model: torch.nn.Module, seed: int, std: float = 0.1) -> None:
    """peft initialises lora_B to zero (the adapter would be a no-op); give A and B random values and
    perturb DoRA magnitudes by a factor 1 + N(0, 0.1)."""
    g = generator(seed)
    touched = 0
    for name, p in peft_model.named_parameters():
        if ".lora_A." in name or ".lora_B." in name:
            p.copy_((std * torch.randn(p.shape, generator=g)).to(p.dtype))
            touched += 1
        elif ".lora_magnitude_vector." in name:
            p.mul_((1 + 0.1 * torch.randn(p.shape, generator=g)).to(p.dtype))
            touched += 1
    assert touched > 0, "no LoRA parameters found"


def float32_list(tensor: torch.Tensor):
    """Nested lists of Python floats whose repr is the shortest decimal that round-trips the float32
    (str(np.float32) is that decimal, and float() of it keeps it as its repr)."""
    array = tensor.detach().to(torch.float32).cpu().numpy()
    assert np.isfinite(array).all(), "non-finite value in a reference output"

    def convert(a):
        return float(str(a)) if a.ndim == 0 else [convert(x) for x in a]

    return convert(array)


def format_json(value, indent: int = 0) -> str:
    """JSON with one line per innermost list (matrix rows stay compact, files stay diffable)."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {format_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        return "[\n" + ",\n".join(inner + format_json(v, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value, separators=(", ", ": "))


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_json(value) + "\n")


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.to(torch.float64) - b.to(torch.float64)).abs().max().item()


# --------------------------------------------------------------------------------------------
# Loading exactly as a user would
# --------------------------------------------------------------------------------------------


def load_decoder(directory: Path) -> torch.nn.Module:
    seed_everything(0)
    # transformers 5 spells it `dtype` (`torch_dtype` still works but logs a deprecation warning).
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def load_encoder(directory: Path) -> torch.nn.Module:
    seed_everything(0)
    model = AutoModel.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def with_adapter(base: torch.nn.Module, adapter: str | None) -> torch.nn.Module:
    if adapter is None:
        return base
    seed_everything(0)
    model = PeftModel.from_pretrained(base, ADAPTERS / adapter)
    return model.eval()


def create_adapter(base: torch.nn.Module, name: str, config: LoraConfig, seed: int, base_label: str,
                   **peft_kwargs) -> None:
    """get_peft_model + random A/B (+ magnitudes), then save_pretrained to adapters/<name>."""
    seed_everything(seed)
    model = get_peft_model(base, config, **peft_kwargs)
    randomize_adapter(model, seed)
    # The default is the absolute path of the base model on this machine; keep the files portable.
    model.peft_config["default"].base_model_name_or_path = base_label
    # save_embedding_layers=False: the default "auto" looks base_model_name_or_path up on the Hub.
    model.save_pretrained(ADAPTERS / name, save_embedding_layers=False)
    # peft's generated model card is boilerplate naming this machine's absolute model path.
    (ADAPTERS / name / "README.md").unlink()
    edit_adapter_config(name, lambda config: None)


def edit_adapter_config(name: str, edit) -> None:
    """Rewrites adapters/<name>/adapter_config.json through `edit`, in peft's own format (indent 2,
    sorted keys, no final newline). peft keeps target_modules as a set, so its saved order depends on
    PYTHONHASHSEED; sort the list to make the file reproducible."""
    path = ADAPTERS / name / "adapter_config.json"
    config = json.loads(path.read_text())
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    edit(config)
    path.write_text(json.dumps(config, indent=2, sort_keys=True))


def saved_tensors(path: Path) -> dict[str, tuple[str, list[int]]]:
    """{name: (safetensors dtype, shape)} read from a file's header."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"]) for k, v in header.items()}


def record_adapter_file(name: str) -> dict[str, tuple[str, list[int]]]:
    tensors = saved_tensors(ADAPTERS / name / "adapter_model.safetensors")
    REPORT.setdefault("adapter_dtypes", {})[name] = sorted({dtype for dtype, _ in tensors.values()})
    REPORT.setdefault("adapter_keys", {})[name] = sorted(tensors)
    return tensors


# --------------------------------------------------------------------------------------------
# Reference outputs
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def decoder_logits(model: torch.nn.Module, tokens: list[int]) -> torch.Tensor:
    out = model(input_ids=torch.tensor([tokens]), use_cache=False)
    return out.logits[0]


def decoder_case(model_name: str, adapter: str | None, tokens: list[int]) -> torch.Tensor:
    """Writes expected/<model>.<adapter or base>.json; for adapters also merged logits from a fresh reload."""
    directory = MODELS / model_name
    logits = decoder_logits(with_adapter(load_decoder(directory), adapter), tokens)
    case = {"model": model_name, "adapter": adapter, "tokens": tokens, "logits": float32_list(logits)}
    if adapter is not None:
        merged = with_adapter(load_decoder(directory), adapter).merge_and_unload()
        assert not isinstance(merged, PeftModel)
        merged_logits = decoder_logits(merged.eval(), tokens)
        difference = max_abs(logits, merged_logits)
        REPORT.setdefault("merge_max_abs", {})[f"{model_name}.{adapter}"] = difference
        assert difference < MERGE_TOLERANCE, f"{adapter}: merged differs by {difference}"
        effect = max_abs(logits, decoder_logits(load_decoder(directory), tokens))
        REPORT.setdefault("adapter_effect_max_abs", {})[f"{model_name}.{adapter}"] = effect
        assert effect > 1e-2, f"{adapter} barely changes the logits"
        case["merged_logits"] = float32_list(merged_logits)
    std = logits.std().item()
    assert 0.3 < std < 20, f"{model_name}/{adapter}: degenerate logits (std {std})"
    write_json(EXPECTED / f"{model_name}.{adapter or 'base'}.json", case)
    return logits


def sentence_embedding(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers: mean over positions whose mask is 1, then L2 normalisation."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    mean = (last_hidden_state * mask).sum(dim=-2) / mask.sum(dim=-2).clamp(min=1e-9)
    return F.normalize(mean, p=2, dim=-1)


@torch.no_grad()
def encode(model: torch.nn.Module, tokens: list[int], attention_mask: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, mask = torch.tensor([tokens]), torch.tensor([attention_mask])
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state[0]
    return hidden, sentence_embedding(hidden, mask[0])


def encoder_case(model_dir: Path, model_label: str, adapter: str | None, tokens: list[int],
                 attention_mask: list[int] | None = None, suffix: str = "", extra: dict | None = None):
    attention_mask = attention_mask or [1] * len(tokens)
    hidden, embedding = encode(with_adapter(load_encoder(model_dir), adapter), tokens, attention_mask)
    if adapter is not None:
        # Not stored (the schema has no merged fields for encoders) but must agree all the same.
        merged = with_adapter(load_encoder(model_dir), adapter).merge_and_unload().eval()
        merged_hidden, merged_embedding = encode(merged, tokens, attention_mask)
        difference = max(max_abs(hidden, merged_hidden), max_abs(embedding, merged_embedding))
        REPORT.setdefault("merge_max_abs", {})[f"{model_label}.{adapter}{suffix} (encoder)"] = difference
        assert difference < MERGE_TOLERANCE, f"{adapter}: merged differs by {difference}"
        effect = max_abs(hidden, encode(load_encoder(model_dir), tokens, attention_mask)[0])
        REPORT.setdefault("adapter_effect_max_abs", {})[f"{model_label}.{adapter}{suffix}"] = effect
        assert effect > 1e-2, f"{adapter} barely changes the hidden states"
    case = {"model": model_label, "adapter": adapter, "tokens": tokens, "attention_mask": attention_mask}
    case.update(extra or {})
    case["last_hidden_state"] = float32_list(hidden)
    case["embedding"] = float32_list(embedding)
    write_json(EXPECTED / f"{model_label}.{adapter or 'base'}{suffix}.json", case)
    return hidden, embedding


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def save_model(model: torch.nn.Module, name: str, dtype: torch.dtype = torch.float32, **save_kwargs) -> Path:
    directory = MODELS / name
    # transformers 5 always writes safetensors: save_pretrained has no safe_serialization parameter
    # any more (passing it is silently ignored).
    model.to(dtype).save_pretrained(directory, **save_kwargs)
    return directory


def new_model(config, seed: int, auto=AutoModelForCausalLM) -> torch.nn.Module:
    seed_everything(seed)
    model = auto.from_config(config, attn_implementation="eager")
    randomize_weights(model, seed)
    return model.eval()


def qwen2_config() -> Qwen2Config:
    return Qwen2Config(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=128, vocab_size=256, tie_word_embeddings=True, max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6}, rms_norm_eps=1e-6,
        bos_token_id=1, eos_token_id=2,
    )


def llama_config() -> LlamaConfig:
    return LlamaConfig(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
        intermediate_size=96, vocab_size=256, tie_word_embeddings=False, max_position_embeddings=128,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
        attention_bias=False, mlp_bias=False, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
    )


def mistral_config(sliding_window: int | None = 4) -> MistralConfig:
    return MistralConfig(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
        intermediate_size=128, vocab_size=256, tie_word_embeddings=False, max_position_embeddings=128,
        sliding_window=sliding_window, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
    )


def write_classic_llama_config(directory: Path) -> None:
    """config.classic.json: the saved config with RoPE settings in the pre-5.x Hub style."""
    config = json.loads((directory / "config.json").read_text())
    REPORT["llama_saved_config_keys"] = sorted(config)
    REPORT["llama_saved_rope"] = json.loads(json.dumps({k: config[k] for k in config if "rope" in k}))
    rope = config.pop("rope_parameters")
    config.pop("rope_theta", None)
    config.pop("rope_scaling", None)
    config["rope_theta"] = rope.pop("rope_theta")
    config["rope_scaling"] = {k: rope[k] for k in ["factor", "high_freq_factor", "low_freq_factor",
                                                   "original_max_position_embeddings", "rope_type"]}
    (directory / "config.classic.json").write_text(json.dumps(dict(sorted(config.items())), indent=2) + "\n")


def check_classic_llama_config(tokens: list[int]) -> None:
    """Loading the classic-style config must give bit-identical logits."""
    directory = MODELS / "llama-tiny"
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "llama-tiny"
        shutil.copytree(directory, copy)
        (copy / "config.classic.json").replace(copy / "config.json")
        classic = load_decoder(copy)
        assert classic.config.rope_parameters["rope_type"] == "llama3"
        classic_logits = decoder_logits(classic, tokens)
    logits = decoder_logits(load_decoder(directory), tokens)
    assert torch.equal(classic_logits, logits), "classic-style config changes the outputs"
    # Without llama3 scaling the outputs must differ, or the case tests nothing.
    plain = load_decoder(directory)
    plain.config.rope_parameters = {"rope_type": "default", "rope_theta": 500000.0}
    rotary = type(plain.model.rotary_emb)(config=plain.config)
    plain.model.rotary_emb = rotary
    assert max_abs(decoder_logits(plain, tokens), logits) > 1e-3, "llama3 rope scaling has no effect"


def check_sliding_window(tokens: list[int]) -> None:
    """mistral-tiny's window (4) must matter for a 10-token input."""
    windowed = decoder_logits(load_decoder(MODELS / "mistral-tiny"), tokens)
    full = load_decoder(MODELS / "mistral-tiny")
    full.config.sliding_window = None
    for layer in full.model.layers:
        layer.self_attn.sliding_window = None
    full_logits = decoder_logits(full, tokens)
    assert torch.equal(windowed[:4], full_logits[:4])
    assert max_abs(windowed[4:], full_logits[4:]) > 1e-3, "sliding window has no effect"


def make_qwen2_models() -> None:
    directory = save_model(new_model(qwen2_config(), seed=11), "qwen2-tiny")
    names = saved_tensors(directory / "model.safetensors")
    REPORT["qwen2_saved_lm_head"] = "lm_head.weight" in names
    assert "model.layers.0.self_attn.q_proj.bias" in names
    save_model(new_model(qwen2_config(), seed=12), "qwen2-tiny-f16", dtype=torch.float16)
    assert {d for d, _ in saved_tensors(MODELS / "qwen2-tiny-f16" / "model.safetensors").values()} == {"F16"}


def make_llama_models() -> None:
    directory = save_model(new_model(llama_config(), seed=21), "llama-tiny")
    write_classic_llama_config(directory)
    save_model(new_model(llama_config(), seed=22), "llama-tiny-bf16", dtype=torch.bfloat16)
    assert {d for d, _ in saved_tensors(MODELS / "llama-tiny-bf16" / "model.safetensors").values()} == {"BF16"}


def make_mistral_model() -> None:
    directory = save_model(new_model(mistral_config(), seed=31), "mistral-tiny", max_shard_size="150KB")
    shards = sorted(p.name for p in directory.glob("*.safetensors"))
    assert len(shards) >= 2 and (directory / "model.safetensors.index.json").exists(), shards
    REPORT["mistral_shards"] = shards


def make_bert_model() -> None:
    config = BertConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=128,
        max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0,
    )
    model = new_model(config, seed=41, auto=AutoModel)
    assert model.pooler is not None
    directory = save_model(model, "bert-tiny")
    REPORT["bert_saved_keys"] = sorted(saved_tensors(directory / "model.safetensors"))
    write_sentence_transformers_files(directory, dimension=32, max_seq_length=64)


def write_sentence_transformers_files(directory: Path, dimension: int, max_seq_length: int) -> None:
    """modules.json + 1_Pooling/config.json + sentence_bert_config.json, as in all-MiniLM-L6-v2.
    Normalize has no files; like all-MiniLM-L6-v2 (and since git keeps no empty dirs) there is no
    2_Normalize directory, only its modules.json entry."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (directory / "modules.json").write_text(json.dumps(modules, indent=2) + "\n")
    pooling = {
        "word_embedding_dimension": dimension,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    (directory / "1_Pooling").mkdir(exist_ok=True)
    (directory / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2) + "\n")
    (directory / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Adapters
# --------------------------------------------------------------------------------------------

ALL_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def make_qwen2_adapters() -> None:
    create_adapter(load_decoder(MODELS / "qwen2-tiny"), "qwen2-lora",
                   LoraConfig(r=8, lora_alpha=16, target_modules=ALL_PROJECTIONS), seed=101, base_label="qwen2-tiny")
    record_adapter_file("qwen2-lora")

    create_adapter(load_decoder(MODELS / "qwen2-tiny"), "qwen2-dora",
                   LoraConfig(r=4, lora_alpha=4, use_dora=True, target_modules=["q_proj", "o_proj", "down_proj"]),
                   seed=102, base_label="qwen2-tiny")
    record_adapter_file("qwen2-dora")

    create_adapter(load_decoder(MODELS / "qwen2-tiny"), "qwen2-layers",
                   LoraConfig(r=4, lora_alpha=8, target_modules=["k_proj", "gate_proj"], layers_to_transform=[1]),
                   seed=103, base_label="qwen2-tiny")
    tensors = record_adapter_file("qwen2-layers")
    assert tensors and all(".layers.1." in k for k in tensors), sorted(tensors)
    # peft ignores fan_in_fan_out for nn.Linear (it warns and resets it); the file says true all the same.
    edit_adapter_config("qwen2-layers", lambda config: config.update(fan_in_fan_out=True))


def make_llama_adapters() -> None:
    config = LoraConfig(
        r=8, lora_alpha=8, use_rslora=True,
        target_modules=r".*\.(q_proj|v_proj|down_proj)",
        rank_pattern={"q_proj": 4, "layers.1.mlp.down_proj": 2},
        alpha_pattern={"v_proj": 32},
    )
    create_adapter(load_decoder(MODELS / "llama-tiny"), "llama-rslora-patterns", config, seed=201,
                   base_label="llama-tiny")
    tensors = record_adapter_file("llama-rslora-patterns")
    prefix = "base_model.model.model.layers"
    expected_ranks = {
        f"{prefix}.0.self_attn.q_proj": 4, f"{prefix}.1.self_attn.q_proj": 4,   # plain-name key "q_proj"
        f"{prefix}.0.self_attn.v_proj": 8, f"{prefix}.1.self_attn.v_proj": 8,   # default r
        f"{prefix}.0.mlp.down_proj": 8, f"{prefix}.1.mlp.down_proj": 2,         # dotted-path key
    }
    assert len(tensors) == 2 * len(expected_ranks), sorted(tensors)
    for module, rank in expected_ranks.items():
        assert tensors[f"{module}.lora_A.weight"][1][0] == rank, (module, tensors[f"{module}.lora_A.weight"])
        assert tensors[f"{module}.lora_B.weight"][1][1] == rank, (module, tensors[f"{module}.lora_B.weight"])
    # alpha_pattern is not visible in shapes: check the scalings peft computes on reload (rsLoRA: alpha/sqrt(r)).
    reloaded = with_adapter(load_decoder(MODELS / "llama-tiny"), "llama-rslora-patterns")
    layers = reloaded.base_model.model.model.layers
    scalings = {
        "q_proj": (layers[0].self_attn.q_proj.scaling["default"], 8 / math.sqrt(4)),
        "v_proj": (layers[0].self_attn.v_proj.scaling["default"], 32 / math.sqrt(8)),
        "layers.0.down_proj": (layers[0].mlp.down_proj.scaling["default"], 8 / math.sqrt(8)),
        "layers.1.down_proj": (layers[1].mlp.down_proj.scaling["default"], 8 / math.sqrt(2)),
    }
    for name, (actual, expected) in scalings.items():
        assert math.isclose(actual, expected, rel_tol=1e-12), (name, actual, expected)
    REPORT["rslora_scalings"] = {name: actual for name, (actual, _) in scalings.items()}

    create_adapter(load_decoder(MODELS / "llama-tiny"), "llama-dora",
                   LoraConfig(r=4, lora_alpha=8, use_dora=True, target_modules=["q_proj", "v_proj", "o_proj", "up_proj"]),
                   seed=202, base_label="llama-tiny")
    record_adapter_file("llama-dora")


def make_llama_bf16_adapter() -> None:
    """On a bf16 base peft would by default upcast the adapter to float32 (autocast_adapter_dtype=True)
    and save float32; autocast_adapter_dtype=False keeps and saves bfloat16, as a bf16 training run
    without autocast would."""
    seed_everything(0)
    base = AutoModelForCausalLM.from_pretrained(MODELS / "llama-tiny-bf16", dtype=torch.bfloat16,
                                                attn_implementation="eager").eval()
    probe = get_peft_model(AutoModelForCausalLM.from_pretrained(MODELS / "llama-tiny-bf16", dtype=torch.bfloat16),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"]))
    REPORT["bf16_default_adapter_dtype"] = str(next(p.dtype for n, p in probe.named_parameters() if "lora_A" in n))
    create_adapter(base, "llama-bf16-lora", LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"]), seed=301,
                   base_label="llama-tiny-bf16", autocast_adapter_dtype=False)
    tensors = record_adapter_file("llama-bf16-lora")
    assert {dtype for dtype, _ in tensors.values()} == {"BF16"}, tensors


def make_mistral_adapter() -> None:
    create_adapter(load_decoder(MODELS / "mistral-tiny"), "mistral-lora",
                   LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]), seed=401,
                   base_label="mistral-tiny")
    record_adapter_file("mistral-lora")


def make_bert_adapters() -> None:
    create_adapter(load_encoder(MODELS / "bert-tiny"), "bert-lora",
                   LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value", "dense"]), seed=501,
                   base_label="bert-tiny")
    tensors = record_adapter_file("bert-lora")
    assert "base_model.model.pooler.dense.lora_A.weight" in tensors
    create_adapter(load_encoder(MODELS / "bert-tiny"), "bert-dora",
                   LoraConfig(r=2, lora_alpha=4, use_dora=True, target_modules=["query", "key", "intermediate.dense"]),
                   seed=502, base_label="bert-tiny")
    tensors = record_adapter_file("bert-dora")
    assert not any("output.dense" in k for k in tensors)


DEMO_README = """# demo-minilm: a LoRA adapter with RANDOM weights

This adapter is for demonstrating and testing Eckart only. Its lora_A and lora_B matrices are random
numbers (seeded, from `Tests/Fixtures/generate.py`); it was never trained and encodes nothing useful.
It will change all-MiniLM-L6-v2's embeddings, but not in any meaningful way.

- base model: sentence-transformers/all-MiniLM-L6-v2
- PEFT LoRA: r 8, lora_alpha 16, target_modules query, key, value (all 6 layers)
- reference output for the sentence tokens [101, 2023, 2003, 1037, 3231, 6251, 1012, 102]
  ("This is a test sentence."): `Tests/Fixtures/expected/all-MiniLM-L6-v2.demo-minilm.json`
"""


def make_minilm_adapters(minilm: Path) -> None:
    create_adapter(load_encoder(minilm), "minilm-lora",
                   LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"]), seed=601,
                   base_label=MINILM_HUB_ID)
    record_adapter_file("minilm-lora")
    create_adapter(load_encoder(minilm), "demo-minilm",
                   LoraConfig(r=8, lora_alpha=16, target_modules=["query", "key", "value"]), seed=602,
                   base_label=MINILM_HUB_ID)
    record_adapter_file("demo-minilm")
    (ADAPTERS / "demo-minilm" / "README.md").write_text(DEMO_README)


# --------------------------------------------------------------------------------------------
# Expected outputs
# --------------------------------------------------------------------------------------------


def decoder_tokens() -> list[int]:
    return torch.randint(0, 256, (10,), generator=generator(7)).tolist()


def make_decoder_expected() -> None:
    tokens = decoder_tokens()
    for model in ["qwen2-tiny", "llama-tiny", "mistral-tiny", "llama-tiny-bf16", "qwen2-tiny-f16"]:
        decoder_case(model, None, tokens)
    for model, adapter in [
        ("qwen2-tiny", "qwen2-lora"),
        ("qwen2-tiny", "qwen2-dora"),
        ("llama-tiny", "llama-rslora-patterns"),
        ("llama-tiny", "llama-dora"),
        ("mistral-tiny", "mistral-lora"),
        ("llama-tiny-bf16", "llama-bf16-lora"),
    ]:
        decoder_case(model, adapter, tokens)

    # qwen2-layers' adapter_config.json says fan_in_fan_out: true; record what peft does with it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoder_case("qwen2-tiny", "qwen2-layers", tokens)
    REPORT["fan_in_fan_out_warnings"] = sorted({str(w.message) for w in caught if "fan_in_fan_out" in str(w.message)})
    assert REPORT["fan_in_fan_out_warnings"], "expected peft to warn about fan_in_fan_out"

    check_classic_llama_config(tokens)
    check_sliding_window(tokens)


def make_bert_expected() -> None:
    directory = MODELS / "bert-tiny"
    tokens = [2] + torch.randint(3, 128, (6,), generator=generator(8)).tolist() + [3]
    for adapter in [None, "bert-lora", "bert-dora"]:
        encoder_case(directory, "bert-tiny", adapter, tokens)
    padded = tokens[:4] + [3, 0, 0, 0]
    mask = [1, 1, 1, 1, 1, 0, 0, 0]
    hidden, embedding = encoder_case(directory, "bert-tiny", "bert-lora", padded, mask, suffix=".padded")
    # The embedding must only depend on the unmasked positions.
    _, unpadded = encode(with_adapter(load_encoder(directory), "bert-lora"), padded[:5], [1] * 5)
    assert max_abs(embedding, unpadded) < 1e-5


def make_minilm_expected(minilm: Path) -> None:
    check_minilm_tokens(minilm)
    extra = {"text": MINILM_TEXT}
    for adapter in [None, "minilm-lora", "demo-minilm"]:
        _, embedding = encoder_case(minilm, MINILM_NAME, adapter, MINILM_TOKENS, extra=extra)
        check_with_sentence_transformers(minilm, adapter, embedding)


def check_minilm_tokens(minilm: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm / "tokenizer.json"))
    tokenizer.no_padding()  # all-MiniLM-L6-v2's tokenizer.json pads every input to 128 tokens
    ids = tokenizer.encode(MINILM_TEXT).ids
    assert ids == MINILM_TOKENS, ids


def check_with_sentence_transformers(minilm: Path, adapter: str | None, embedding: torch.Tensor) -> None:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        REPORT.setdefault("sentence_transformers", "not installed; check skipped")
        return
    seed_everything(0)
    st = SentenceTransformer(str(minilm), device="cpu")
    if adapter is not None:
        st.load_adapter(str(ADAPTERS / adapter))
    st.eval()
    with torch.no_grad():
        reference = st.encode([MINILM_TEXT], convert_to_tensor=True)[0]
    difference = max_abs(reference, embedding)
    REPORT.setdefault("sentence_transformers", {})[adapter or "base"] = difference
    assert difference < 1e-5, f"sentence-transformers disagrees by {difference}"


# --------------------------------------------------------------------------------------------
# safetensors files for the reader/writer tests
# --------------------------------------------------------------------------------------------


def make_safetensors_files() -> None:
    from safetensors.numpy import save_file as save_numpy
    from safetensors.torch import save_file as save_torch

    SAFETENSORS.mkdir(parents=True)
    files = {
        "floats.safetensors": ({
            "f32": np.array([[1.0, -2.5, 0.1], [3.4028235e38, -1.17549435e-38, 1e-45]], dtype=np.float32),
            "f64": np.array([math.pi, -1e300, 2.5e-300], dtype=np.float64),
            "f16": np.array([[0.5, -1.25], [65504.0, 6.1035156e-05], [5.9604645e-08, -0.0]], dtype=np.float16),
        }, None),
        "ints.safetensors": ({
            "i64": np.array([0, -1, 2**40, -(2**62), 2**63 - 1], dtype=np.int64),
            "u8": np.array([[0, 1, 127], [128, 254, 255]], dtype=np.uint8),
            "mask": np.array([True, False, False, True, True], dtype=np.bool_),
        }, None),
        "metadata.safetensors": ({
            "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
            "scalar": np.array(2.75, dtype=np.float32),
            "empty": np.zeros((0, 4), dtype=np.float32),
        }, {"format": "pt"}),
    }
    for name, (tensors, metadata) in files.items():
        save_numpy(tensors, str(SAFETENSORS / name), metadata=metadata)
    # numpy has no bfloat16: write that one through torch. 0.1 and 1/3 are rounded to bf16 on save.
    bf16 = torch.tensor([[1.0, -2.5, 0.1], [1 / 3, 3.3895e38, -9.1835e-41]], dtype=torch.float32).to(torch.bfloat16)
    # One metadata key per file: the library writes a multi-key __metadata__ in random (hash map) order.
    save_torch({"bf16": bf16, "f32_after_bf16": torch.tensor([7.0, -7.0])}, str(SAFETENSORS / "bf16.safetensors"),
               metadata={"producer": "eckart-fixtures"})

    expected = {}
    for path in sorted(SAFETENSORS.glob("*.safetensors")):
        entry = {"metadata": None, "tensors": {}}
        with safe_open(str(path), framework="pt") as f:
            entry["metadata"] = f.metadata()
            for key in sorted(f.keys()):
                tensor = f.get_tensor(key)
                dtype = saved_tensors(path)[key][0]
                flat = tensor.reshape(-1)
                if tensor.is_floating_point():
                    # Exact: every F16/BF16/F32 value is a double, and repr(double) round-trips.
                    values = [float(x) for x in flat.to(torch.float64).tolist()]
                else:
                    values = [int(x) for x in flat.tolist()]
                entry["tensors"][key] = {"dtype": dtype, "shape": list(tensor.shape), "values": values}
        expected[path.name] = entry
    write_json(SAFETENSORS / "expected.json", expected)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def write_manifest() -> None:
    lines = []
    for path in sorted(p for d in GENERATED_DIRS for p in d.rglob("*") if p.is_file()):
        relative = path.relative_to(HERE).as_posix()
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {relative}")
    lines.sort(key=lambda line: line.split("  ", 1)[1])
    (HERE / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minilm", type=Path, help="local all-MiniLM-L6-v2 directory (enables the MiniLM cases)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread: the same summation order on every run

    for directory in GENERATED_DIRS:
        shutil.rmtree(directory, ignore_errors=True)

    make_qwen2_models()
    make_llama_models()
    make_mistral_model()
    make_bert_model()

    make_qwen2_adapters()
    make_llama_adapters()
    make_llama_bf16_adapter()
    make_mistral_adapter()
    make_bert_adapters()

    make_decoder_expected()
    make_bert_expected()

    if args.minilm is None:
        print("--minilm not given: skipping minilm-lora, demo-minilm and the all-MiniLM-L6-v2 cases")
    else:
        make_minilm_adapters(args.minilm.resolve())
        make_minilm_expected(args.minilm.resolve())

    make_safetensors_files()
    write_manifest()
    print(json.dumps(REPORT, indent=2, default=str))


if __name__ == "__main__":
    main()
