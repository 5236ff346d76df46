"""Eckart through the official `openai` client, unchanged. Install it in a virtual environment
(Debian's system Python refuses pip installs):

    python3 -m venv .venv && .venv/bin/pip install openai
    .venv/bin/python examples/openai_client.py [BASE_URL] [MODEL] [API_KEY]

MODEL is an adapter id, or the base model's name for no adapter. API_KEY (else the environment's
OPENAI_API_KEY) is the server's --api-key, when it has one. Prints the models the server offers, a
completion, a chat answer, and the same chat answer streamed token by token.
"""
import os
import sys

import openai

base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8081/v1"
model = sys.argv[2] if len(sys.argv) > 2 else "qwen2-bl"
# The client insists on a key; a server without --api-key ignores whatever it sends.
api_key = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("OPENAI_API_KEY") or "unused"
client = openai.OpenAI(base_url=base_url, api_key=api_key)

print("models:", [(m.id, getattr(m, "parent", None)) for m in client.models.list().data])

completion = client.completions.create(model=model, prompt="The quick brown fox", max_tokens=12, temperature=0)
print("completion:", repr(completion.choices[0].text), completion.choices[0].finish_reason)

messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Say hello."}]
chat = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0)
print("chat:", repr(chat.choices[0].message.content), chat.usage.prompt_tokens, "prompt tokens")

stream = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0, stream=True)
pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
print("streamed:", repr("".join(pieces)), "in", len(pieces), "chunks")
assert "".join(pieces) == chat.choices[0].message.content
