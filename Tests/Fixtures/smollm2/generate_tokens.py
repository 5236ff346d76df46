"""Token ids and chat prompts transformers builds from the SmolLM2-135M-Instruct GGUF's metadata.

Usage: python generate_tokens.py /path/to/SmolLM2-135M-Instruct.Q4_1.gguf
(`make model` fetches it into models/SmolLM2-135M-Instruct/; run with the fixture venv:
torch, transformers, gguf.)

Writes tokens.json next to this script: for a corpus of English, code, numbers, unicode, emoji,
whitespace runs and chat special tokens, the ids AutoTokenizer.from_pretrained(dir, gguf_file=...)
gives (with its special tokens added); for a few conversations, the chat template rendered with
add_generation_prompt and its ids. Tests/TokenizersTests/GGUFTokenizerReferenceTests.swift and
Tests/ChatTemplatesTests/GGUFChatTemplateTests.swift compare Eckart's GGUF tokenizer and chat
template against it.
"""
import json
import pathlib
import sys

from transformers import AutoTokenizer

HERE = pathlib.Path(__file__).parent

CORPUS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "Numbers: 1 12 123 1234 12345 3.14159 -42 1,000,000",
    "Unicode: café naïve Zürich Ελληνικά Русский 日本語 中文 한국어",
    "Emoji: 🤗🚀👩‍👩‍👧 ✨",
    "Whitespace:   three spaces\t\ttabs\n\n\nnewlines    \n  trailing  ",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>",
    "don't you'll I'm we've they'd IT'S",
    "",
]

CONVERSATIONS = [
    [{"role": "user", "content": "Hi there!"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a prime."},
     {"role": "assistant", "content": "7"}, {"role": "user", "content": "Another?"}],
]


def main():
    gguf = pathlib.Path(sys.argv[1])
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    cases = [{"text": text, "ids": tokenizer.encode(text, add_special_tokens=True)} for text in CORPUS]
    chats = []
    for messages in CONVERSATIONS:
        rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        chats.append({"messages": messages, "rendered": rendered,
                      "ids": tokenizer.encode(rendered, add_special_tokens=False)})
    document = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
                "vocabulary_size": len(tokenizer), "cases": cases, "chats": chats}
    (HERE / "tokens.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print("wrote", HERE / "tokens.json")


if __name__ == "__main__":
    main()
