#!/usr/bin/env python3
"""Reference fixtures for Eckart reading the real SmolLM2-135M-Instruct GGUF (Q4_1) directly.

How to run (from the package root; about a minute on 2 cores):

    ~/.cache/eckart/venv-fixtures/bin/python Tests/Fixtures/smollm2/generate_smollm2.py \
        models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf

Written against torch 2.13 (CPU), transformers 5.24, peft 0.21 and gguf 0.19. transformers reads the
GGUF with `gguf_file=` and dequantizes every tensor to float32 (undoing llama.cpp's Q/K row
permutation), so the reference is the quantized model's own weights in full precision. What it writes:

    ../adapters/smollm2-lora/   a PEFT LoRA on q_proj, k_proj, v_proj and down_proj (r 4, alpha 8,
                                random non-zero A and B, stored as float16 and used as float16-rounded
                                values in the reference), base_model_name_or_path the Hub id.
    expected.json               per prompt: its ids (AutoTokenizer), and for the base and the adapter
                                (PeftModel, unmerged): the last position's logits at `logit_ids` (the
                                reference's 32 best ids plus 96 fixed ids), and greedy generate()
                                (max_new_tokens 12) with each step's margin between the best and the
                                second-best logit. One prompt is a chat rendered by the GGUF's template.
The GGUF itself is not committed (98 MB): scripts/fetch-smollm2.sh fetches it, pinned by SHA-256.
"""
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = Path(__file__).resolve().parent
ADAPTER = HERE.parent / "adapters" / "smollm2-lora"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
MAX_NEW_TOKENS = 12
PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    ",
    "Once upon a time, in a small village,",
]
CHAT = [{"role": "user", "content": "What is 2 + 2? Answer in one word."}]


def main() -> None:
    gguf = Path(sys.argv[1]).resolve()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    vocabulary = model.config.vocab_size
    fixed_ids = sorted(random.Random(1).sample(range(vocabulary), 96))

    prompts = [{"prompt": p, "ids": tokenizer(p)["input_ids"]} for p in PROMPTS]
    chat = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    prompts.append({"prompt": chat, "chat": CHAT, "ids": tokenizer(chat, add_special_tokens=False)["input_ids"]})

    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "down_proj"],
                        init_lora_weights=False, lora_dropout=0.0)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_" in name:
                parameter.copy_((torch.randn_like(parameter) * 0.05).half().float())
    ADAPTER.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(ADAPTER)
    # Store float16 (half the bytes); the reference already used float16-rounded values.
    from safetensors.torch import load_file
    tensors = load_file(ADAPTER / "adapter_model.safetensors")
    save_file({k: v.half().contiguous() for k, v in tensors.items()}, ADAPTER / "adapter_model.safetensors")
    (ADAPTER / "README.md").unlink(missing_ok=True)
    adapter_config = json.loads((ADAPTER / "adapter_config.json").read_text())
    adapter_config["base_model_name_or_path"] = HUB_ID
    (ADAPTER / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n")

    def run(m, ids):
        with torch.no_grad():
            logits = m(torch.tensor([ids])).logits[0, -1]
            out = m.generate(torch.tensor([ids]), max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                             output_scores=True, return_dict_in_generate=True, pad_token_id=tokenizer.eos_token_id)
        generated = out.sequences[0, len(ids):].tolist()
        margins = []
        for step in out.scores:
            top = torch.topk(step[0], 2).values
            margins.append(float(top[0] - top[1]))
        best = torch.topk(logits, 32).indices.tolist()
        logit_ids = sorted(set(best) | set(fixed_ids))
        return {"logit_ids": logit_ids, "logits": [float(logits[i]) for i in logit_ids],
                "generated": generated, "margins": margins, "text": tokenizer.decode(generated, skip_special_tokens=True)}

    cases = []
    for prompt in prompts:
        with peft_model.disable_adapter():
            base = run(peft_model, prompt["ids"])
        adapted = run(peft_model, prompt["ids"])
        cases.append({**prompt, "base": base, "adapter": adapted})
        print(repr(prompt["prompt"][:40]), "→", repr(base["text"]), "| adapter →", repr(adapted["text"]),
              "| min margin", round(min(base["margins"]), 4))
    expected = {"gguf_sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                "adapter": "smollm2-lora", "max_new_tokens": MAX_NEW_TOKENS, "cases": cases}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
