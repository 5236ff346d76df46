#!/usr/bin/env python3
"""Truncated-adapter fixtures: what peft makes of the adapters `eckart truncate` writes.

For each case below this script runs the built `eckart truncate` on one of the committed fixture
adapters (../adapters), copies the PEFT directory it writes to adapters/<case>/, loads it back with
``PeftModel.from_pretrained`` and

  (a) checks every module's effective update from peft, scaling·B'·A', against an independent torch
      SVD truncation of the original adapter's update scaling·B·A (relative Frobenius difference
      below 1e-5; fp32 SVDs of rank ≤ 8 products agree to ~1e-6), that peft resolved each module to
      the rank Eckart reported (rank_pattern / alpha_pattern keys matched as intended), and that
      DoRA magnitude vectors are unchanged;
  (b) writes expected/<case>.json with peft's outputs on the token sequence the main fixtures use
      (decoders: logits; encoders: last hidden state + sentence embedding).

Then it writes MANIFEST.sha256 over adapters/ and expected/.

    /work/venv/bin/python Tests/Fixtures/truncation/generate_truncation.py --eckart .build/debug/eckart

Written against torch 2.13.0+cpu, transformers 5.23.0, peft 0.21.2. Deterministic: no randomness.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import torch.nn.functional as F
from peft import PeftModel
from peft.tuners.lora import LoraLayer
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForCausalLM

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent
ADAPTERS = HERE / "adapters"
EXPECTED = HERE / "expected"

# (case, source adapter, base model, decoder?, eckart truncate arguments)
CASES = [
    ("qwen2-lora-r2", "qwen2-lora", "qwen2-tiny", True, ["--rank", "2"]),
    ("llama-rslora-patterns-e0.9", "llama-rslora-patterns", "llama-tiny", True, ["--energy", "0.9"]),
    ("llama-dora-r2", "llama-dora", "llama-tiny", True, ["--rank", "2"]),
    ("bert-lora-r1", "bert-lora", "bert-tiny", False, ["--rank", "1"]),
]

# Relative Frobenius difference accepted between peft's truncated update and the torch SVD one.
DELTA_TOLERANCE = 1e-5


def float32_list(tensor: torch.Tensor):
    return tensor.detach().to(torch.float32).tolist()


def load(model_dir: Path, decoder: bool, adapter: Path | None):
    cls = AutoModelForCausalLM if decoder else AutoModel
    model = cls.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    return PeftModel.from_pretrained(model, adapter).eval() if adapter else model


def lora_layers(model) -> dict[str, LoraLayer]:
    prefix = "base_model.model."
    return {name[len(prefix):]: m for name, m in model.named_modules() if isinstance(m, LoraLayer)}


def best_rank_k(delta: torch.Tensor, k: int) -> torch.Tensor:
    u, s, vh = torch.linalg.svd(delta.double(), full_matrices=False)
    return (u[:, :k] * s[:k]) @ vh[:k]


def check_updates(case: str, original, truncated, ranks: dict[str, int]) -> float:
    """(a): peft's truncated ΔW equals the SVD truncation of the original ΔW; returns the worst error."""
    before, after = lora_layers(original), lora_layers(truncated)
    assert sorted(before) == sorted(after) == sorted(ranks), (case, sorted(after), sorted(ranks))
    worst = 0.0
    for name, layer in after.items():
        k = ranks[name]
        assert layer.r["default"] == max(k, 1), (case, name, layer.r["default"], k)
        expected = best_rank_k(before[name].get_delta_weight("default"), k)
        actual = layer.get_delta_weight("default").double()
        error = ((actual - expected).norm() / before[name].get_delta_weight("default").double().norm()).item()
        assert error < DELTA_TOLERANCE, (case, name, error)
        worst = max(worst, error)
        if "default" in getattr(layer, "lora_magnitude_vector", {}):
            m0 = before[name].lora_magnitude_vector["default"].weight
            m1 = layer.lora_magnitude_vector["default"].weight
            assert torch.equal(m0, m1), (case, name, "DoRA magnitude changed")
    return worst


def sentence_embedding(hidden: torch.Tensor) -> torch.Tensor:
    return F.normalize(hidden.mean(dim=0), p=2, dim=-1)


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eckart", required=True, help="path to the built eckart executable")
    args = parser.parse_args()
    eckart = str(Path(args.eckart).resolve())
    for directory in (ADAPTERS, EXPECTED):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    report = {}
    for case, source, model_name, decoder, options in CASES:
        model_dir = FIXTURES / "models" / model_name
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / case
            result = subprocess.run([eckart, "truncate", str(FIXTURES / "adapters" / source), "--model", str(model_dir),
                                     "--out", str(out), *options], check=True, capture_output=True, text=True)
            summary = json.loads(result.stdout)
            shutil.copytree(out, ADAPTERS / case)
        original = load(model_dir, decoder, FIXTURES / "adapters" / source)
        truncated = load(model_dir, decoder, ADAPTERS / case)
        worst = check_updates(case, original, truncated, summary["ranks"])
        reference = json.loads((FIXTURES / "expected" / f"{model_name}.{source}.json").read_text())
        tokens = reference["tokens"]
        ids = torch.tensor([tokens])
        expected = {"model": model_name, "adapter": case, "source_adapter": source, "truncate": options,
                    "ranks": summary["ranks"], "relative_error": summary["relative_error"], "tokens": tokens}
        if decoder:
            expected["logits"] = float32_list(truncated(input_ids=ids, use_cache=False).logits[0])
        else:
            hidden = truncated(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
            expected["last_hidden_state"] = float32_list(hidden)
            expected["embedding"] = float32_list(sentence_embedding(hidden))
        (EXPECTED / f"{case}.json").write_text(json.dumps(expected, indent=1) + "\n")
        report[case] = {"ranks": sorted(set(summary["ranks"].values())), "relative_error": summary["relative_error"],
                        "worst_delta_error_vs_torch_svd": worst}
    files = sorted(p.relative_to(HERE).as_posix() for d in (ADAPTERS, EXPECTED) for p in d.rglob("*") if p.is_file())
    lines = [f"{hashlib.sha256((HERE / f).read_bytes()).hexdigest()}  {f}" for f in files]
    (HERE / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
