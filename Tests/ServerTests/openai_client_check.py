#!/usr/bin/env python3
"""Drives Eckart's OpenAI-compatible routes with the official `openai` Python client, unchanged.

Run by OpenAIClientTests.swift with $ECKART_PYTHON (scripts/test-python.sh installs `openai`):

    openai_client_check.py DECODER_URL BASE_NAME ADAPTER_DIR_NAME CASES_JSON [ENCODER_URL ENCODER_NAME]

DECODER_URL serves a generation fixture model whose --adapter-root holds ADAPTER_DIR_NAME;
CASES_JSON is that model's list from Tests/Fixtures/generation/cases.json (greedy references).
ENCODER_URL (optional) serves all-MiniLM-L6-v2. Prints one line per check; exits non-zero on the
first failure.
"""
import base64
import json
import struct
import sys
import urllib.error
import urllib.request

import openai

# The decoder server renders chat prompts with its model's chat_template (set False to check the
# clear 400 of a server without one).
CHAT_RENDERER_CONNECTED = True


class Reply:
    """A raw HTTP reply (vLLM's adapter routes answer plain text on success)."""

    def __init__(self, status, text):
        self.status_code, self.text = status, text

    def json(self):
        return json.loads(self.text)


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode())


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def expect_error(call, status, what, contains=None):
    try:
        call()
    except openai.APIStatusError as error:
        check(error.status_code == status, f"{what}: status {error.status_code} == {status}")
        body = error.body if isinstance(error.body, dict) else {}
        # The client unwraps {"error": {...}} into body; message, type and code are OpenAI's fields.
        check(isinstance(body.get("message"), str) and body.get("type") and body.get("code") == status,
              f"{what}: OpenAI error object {body}")
        if contains:
            check(contains in body["message"], f"{what}: message mentions {contains!r}")
        return
    check(False, f"{what}: expected HTTP {status}")


def decoder_checks(url, base_name, adapter_dir, cases):
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    adapter = "gen-adapter"

    # vLLM's adapter routes, driven with plain HTTP as the gateway's sidecar does.
    load = post(url + "/v1/load_lora_adapter", {"lora_name": adapter, "lora_path": adapter_dir})
    check(load.status_code == 200 and load.text == f"Success: LoRA adapter '{adapter}' added successfully.", f"load: {load.text}")
    again = post(url + "/v1/load_lora_adapter", {"lora_name": adapter, "lora_path": adapter_dir})
    check(again.status_code == 400 and "already been loaded" in again.json()["error"]["message"]
          and again.json()["error"]["type"] == "InvalidUserInput", "load twice is 400 InvalidUserInput, as vLLM")
    missing = post(url + "/v1/load_lora_adapter", {"lora_name": "x"})
    check(missing.status_code == 400 and missing.json()["error"]["type"] == "InvalidUserInput", "load without lora_path is 400")
    absent = post(url + "/v1/load_lora_adapter", {"lora_name": "x", "lora_path": "no-such-dir"})
    check(absent.status_code == 404 and absent.json()["error"]["type"] == "NotFoundError", "load from a missing path is 404")
    outside = post(url + "/v1/load_lora_adapter", {"lora_name": "evil", "lora_path": "/etc"})
    check(outside.status_code == 403 and "error" in outside.json(), "path outside --adapter-root is refused")

    models = client.models.list()
    ids = {m.id: m for m in models.data}
    check(base_name in ids and adapter in ids, f"models list: {sorted(ids)}")
    check(getattr(ids[adapter], "parent", None) == base_name, "adapter's parent is the base model")
    check(getattr(ids[base_name], "parent", "missing") is None, "base model has no parent")

    for case in cases:
        model = base_name if case["adapter"] is None else adapter
        result = client.completions.create(model=model, prompt=case["prompt"], max_tokens=16, temperature=0)
        choice = result.choices[0]
        check(choice.text == case["text"], f"greedy completion {model} {case['prompt']!r}")
        check(choice.finish_reason == ("stop" if case["finished_by_eos"] else "length"), "finish_reason")
        check(result.usage.prompt_tokens == len(case["prompt_ids"]) and result.usage.completion_tokens == len(case["generated"]),
              "usage")

    case = next(c for c in cases if not c["finished_by_eos"] and c["adapter"] is None)
    stream = client.completions.create(model=base_name, prompt=case["prompt"], max_tokens=16, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    check(text == case["text"], "streamed completion adds up to the greedy text")
    check([c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length", "streamed finish_reason")
    check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 16, "stream usage chunk")

    seeded = [client.completions.create(model=adapter, prompt="Once upon", max_tokens=12, temperature=1.0, seed=s).choices[0].text
              for s in (5, 5, 6)]
    check(seeded[0] == seeded[1] and seeded[0] != seeded[2], "same seed same text, other seed other text")

    expect_error(lambda: client.completions.create(model="no-such-model", prompt="x"), 404, "unknown model", "no-such-model")
    expect_error(lambda: client.completions.create(model=base_name, prompt="x", n=2), 400, "n=2", "n")
    expect_error(lambda: client.completions.create(model=base_name, prompt="x", echo=True), 400, "echo")
    expect_error(lambda: client.completions.create(model=base_name, prompt="x", extra_body={"bogus": 1}), 400, "unknown field", "bogus")
    expect_error(lambda: client.embeddings.create(model=base_name, input="x"), 400, "embeddings on a decoder", "encoder")

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}]
    if CHAT_RENDERER_CONNECTED:
        chat = client.chat.completions.create(model=adapter, messages=messages, max_tokens=8, temperature=0)
        check(chat.choices[0].message.role == "assistant" and chat.usage.completion_tokens > 0, "chat completion")
        chunks = list(client.chat.completions.create(model=adapter, messages=messages, max_tokens=8, temperature=0, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        check(streamed == chat.choices[0].message.content, "streamed chat adds up to the chat answer")
    else:
        expect_error(lambda: client.chat.completions.create(model=adapter, messages=messages), 400, "chat without a renderer",
                     "chat_template")
    expect_error(lambda: client.chat.completions.create(model=adapter, messages=[{"role": "wizard", "content": "x"}]), 400,
                 "chat with a bad role", "role")

    unload = post(url + "/v1/unload_lora_adapter", {"lora_name": adapter})
    check(unload.status_code == 200 and unload.text == f"Success: LoRA adapter '{adapter}' removed successfully.", "unload")
    gone = post(url + "/v1/unload_lora_adapter", {"lora_name": adapter})
    check(gone.status_code == 404 and gone.json()["error"]["type"] == "NotFoundError", "unload twice is 404")
    check(adapter not in {m.id for m in client.models.list().data}, "unloaded adapter left the model list")
    expect_error(lambda: client.completions.create(model=adapter, prompt="x"), 404, "unloaded adapter is an unknown model")


def encoder_checks(url, name):
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    texts = ["A man is eating food.", "Someone is eating a meal.", "The sky is blue today."]
    # The client asks for base64 by default and decodes it itself.
    default = client.embeddings.create(model=name, input=texts)
    floats = client.embeddings.create(model=name, input=texts, encoding_format="float")
    check(len(default.data) == 3 and len(default.data[0].embedding) == 384, "three 384-d embeddings")
    for a, b in zip(default.data, floats.data):
        check(max(abs(x - y) for x, y in zip(a.embedding, b.embedding)) < 1e-6, "base64 and float agree")
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))
    e = [d.embedding for d in floats.data]
    check(abs(dot(e[0], e[0]) - 1) < 1e-4, "MiniLM embeddings are normalised")
    check(dot(e[0], e[1]) > dot(e[0], e[2]) + 0.2, "similar sentences are closer")
    check(default.usage.prompt_tokens > 0 and default.usage.total_tokens == default.usage.prompt_tokens, "embedding usage")
    raw = post(url + "/v1/embeddings", {"model": name, "input": "A man is eating food.", "encoding_format": "base64"}).json()
    decoded = struct.unpack(f"<{384}f", base64.b64decode(raw["data"][0]["embedding"]))
    check(max(abs(x - y) for x, y in zip(decoded, e[0])) < 1e-6, "base64 is little-endian float32")
    expect_error(lambda: client.completions.create(model=name, prompt="x"), 400, "completions on an encoder")


def main():
    url, base_name, adapter_dir, cases_path = sys.argv[1:5]
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    decoder_checks(url, base_name, adapter_dir, cases)
    if len(sys.argv) > 5:
        encoder_checks(sys.argv[5], sys.argv[6])
    print("all checks passed")


if __name__ == "__main__":
    main()
