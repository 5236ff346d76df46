#!/usr/bin/env python3
"""Renders the committed chat templates with transformers' own machinery and writes expected.json.

Every case is rendered by `transformers.utils.chat_template_utils.render_jinja_template`, the function
`apply_chat_template(..., tokenize=False)` calls: jinja2's ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson / raise_exception / strftime_now. A case
either renders (the exact string is stored) or fails: a `raise_exception` call is stored with its message
(kind "raised"); any other failure (a TypeError from concatenating a list, an UndefinedError) is stored
as kind "error" with Python's message for reference only.

Dates are fixed by passing `date_string` (the Llama 3.x templates only call strftime_now when it is
undefined). Output is deterministic: MANIFEST.sha256 pins templates/*.jinja and expected.json.

Run: /work/venv/bin/python Tests/Fixtures/chat/generate_chat_templates.py
"""
import hashlib
import json
import pathlib

import jinja2
import transformers
from transformers.utils.chat_template_utils import render_jinja_template

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"

# Special tokens as each model's tokenizer_config.json has them.
TOKENS = {
    "llama-3-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.1-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.2-vision-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2.5-instruct": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "mistral-v0.1-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mixtral-v0.1-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-v0.3-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-nemo-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "smollm2-instruct": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>"},
    "zephyr-tinyllama-chat": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"},
    "deepseek-coder-instruct": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<|EOT|>"},
}

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
U1 = {"role": "user", "content": "What is the capital of France?"}
A1 = {"role": "assistant", "content": "Paris."}
U2 = {"role": "user", "content": "And of Japan?"}
UNICODE = {"role": "user", "content": "  Grüße 👋🏽 — 日本語テキスト\n\n\tindented\r\nline with \"quotes\" and 'apostrophes' and \\backslash\\ {{ not jinja }} {% neither %}  "}
A_UNICODE = {"role": "assistant", "content": "\nÇa va 🎉 ✓\n\n"}
PARTS = {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this, please."}]}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "default": 1.5},
            },
            "required": ["city"],
        },
    },
}
TOOL_CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [{"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}],
}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 21.5}"}

CONVERSATIONS = {
    "system-user": [SYSTEM, U1],
    "user-only": [U1],
    "multi-turn": [U1, A1, U2],
    "system-multi-turn": [SYSTEM, U1, A1, U2],
    "ends-with-assistant": [SYSTEM, U1, A1],
    "unicode-whitespace": [SYSTEM, UNICODE, A_UNICODE, U2],
    "content-parts": [PARTS],
    "two-users": [U1, U2],
    "assistant-first": [A1, U1],
    "empty": [],
}

# Conversations with tools, for the templates that take them.
TOOL_CONVERSATIONS = {
    "tools-request": ([SYSTEM, {"role": "user", "content": "Weather in Zürich?"}], [WEATHER_TOOL]),
    "tools-round-trip": ([{"role": "user", "content": "Weather in Zürich?"}, TOOL_CALL, TOOL_RESULT], [WEATHER_TOOL]),
}
TOOL_TEMPLATES = {"llama-3.1-instruct", "qwen2.5-instruct", "mistral-v0.3-instruct", "mistral-nemo-instruct", "llama-3.2-vision-instruct"}
DATED_TEMPLATES = {"llama-3.1-instruct", "llama-3.2-vision-instruct"}


def render(template, messages, add_generation_prompt, context):
    context = dict(context)
    tools = context.pop("tools", None)
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages], tools=tools, chat_template=template,
            add_generation_prompt=add_generation_prompt, **context,
        )
        return {"rendered": rendered[0]}
    except jinja2.exceptions.TemplateError as error:
        # raise_exception raises the base TemplateError; jinja2's own failures are subclasses.
        kind = "raised" if type(error) is jinja2.exceptions.TemplateError else "error"
        return {"error": {"kind": kind, "message": str(error)}}
    except Exception as error:  # TypeError and the like, from the template's own expressions
        return {"error": {"kind": "error", "message": f"{type(error).__name__}: {error}"}}


def main():
    cases = []
    for path in sorted(TEMPLATES.glob("*.jinja")):
        name = path.stem
        template = path.read_text(encoding="utf-8")
        base = dict(TOKENS[name])
        if name in DATED_TEMPLATES:
            base["date_string"] = "23 Nov 2026"
        runs = [(conv, messages, {}) for conv, messages in CONVERSATIONS.items()]
        if name in TOOL_TEMPLATES:
            runs += [(conv, messages, {"tools": tools}) for conv, (messages, tools) in TOOL_CONVERSATIONS.items()]
        for conv, messages, extra in runs:
            for add_generation_prompt in (False, True):
                context = {**base, **extra}
                result = render(template, messages, add_generation_prompt, context)
                cases.append({
                    "template": name, "conversation": conv, "add_generation_prompt": add_generation_prompt,
                    "context": context, "messages": messages, **result,
                })
    kinds = {}
    for case in cases:
        key = case["error"]["kind"] if "error" in case else "rendered"
        kinds[key] = kinds.get(key, 0) + 1
    assert kinds.get("raised", 0) >= 4, kinds  # the Mistral templates refuse two-users / assistant-first
    assert kinds["rendered"] > 150, kinds
    document = {"transformers": transformers.__version__, "jinja2": jinja2.__version__, "cases": cases}
    (HERE / "expected.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files = sorted([p.relative_to(HERE).as_posix() for p in TEMPLATES.glob("*.jinja")] + ["expected.json"])
    manifest = "".join(f"{hashlib.sha256((HERE / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
    (HERE / "MANIFEST.sha256").write_text(manifest, encoding="utf-8")
    print(f"{len(cases)} cases: {kinds}")


if __name__ == "__main__":
    main()
