#!/usr/bin/env python3
"""Reference fixtures for Eckart's `Tokenizers` target, computed with Hugging Face `tokenizers`.

How to run (from the package root, a few seconds):

    /work/venv/bin/python Tests/Fixtures/tokenizers/generate_tokenizers.py

Written against tokenizers 0.23.3. It needs no network. What it writes, next to this file:

    <name>.json   small tokenizers TRAINED here on the built-in CORPUS below (vocab ~300-1000):
                  wordpiece-uncased  BERT uncased style (BertNormalizer lowercase + strip accents,
                                     BertPreTokenizer, WordPiece, [CLS] $A [SEP], WordPiece decoder),
                                     plus a normalized non-special added token and an lstrip [MASK]
                  wordpiece-cased    BERT cased style (no lowercase, no accent stripping, no Chinese
                                     padding), BertProcessing post-processor, no decoder cleanup
                  bpe-bytelevel      GPT-2 / Llama 3 style byte-level BPE (ByteLevel pre-tokenizer,
                                     ByteLevel decoder, Sequence[ByteLevel, TemplateProcessing <bos>])
                  bpe-sentencepiece  Llama 2 style SentencePiece BPE: normalizer Sequence[Prepend "▁",
                                     Replace " " -> "▁"], no pre-tokenizer, byte fallback <0x00>..<0xFF>
                                     at ids 3..258, fuse_unk, decoder Sequence[Replace, ByteFallback,
                                     Fuse, Strip], <s> $A
                  bpe-llama3         Llama 3 style: Sequence[Split(Llama 3 regex, Isolated),
                                     ByteLevel(use_regex false)], ignore_merges, <|begin_of_text|> $A
                  bpe-qwen2          Qwen2 style: NFC normalizer, Split(Qwen2 regex), ByteLevel, no bos
                  bpe-metaspace      Mistral style: Metaspace pre-tokenizer (prepend_scheme "first",
                                     split), byte fallback, decoder Sequence[ByteFallback, Metaspace]
    cases.json    for every tokenizer above and for all-MiniLM-L6-v2 (read from
                  models/all-MiniLM-L6-v2/tokenizer.json when present; never copied here):
                  {"<name>": [{"text", "ids", "ids_no_special", "decoded", "decoded_with_special"}]}
                  where `decoded` = decode(ids, skip_special_tokens=True) and
                  `decoded_with_special` = decode(ids, skip_special_tokens=False). TEXTS below plus
                  40 seeded random strings over a mix of letters, digits, marks, CJK, emoji,
                  whitespace, CR/LF, apostrophes and punctuation (to exercise the hand-written
                  splitters).
    vocab_sizes.json  {"<name>": get_vocab_size(with_added_tokens=True)}

Padding and truncation stored in a tokenizer.json are switched off before encoding: Eckart's
tokenizer never pads and never truncates silently (it reports `maxLength` instead).
The script is deterministic; it rewrites only the files listed above.
"""

from __future__ import annotations

import json
import pathlib
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors, trainers

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
MINILM = ROOT / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog didn't care; it's lazy!",
    "Tokenizers split text into words, then words into sub-word pieces.",
    "Café, naïve, résumé, façade and Ærøskøbing are words with accents.",
    "Numbers like 3.14159, 42, 1,000,000 and 2026-11-23 appear in text too.",
    "def encode(text: str) -> list[int]:\n    return [vocab[t] for t in text.split()]",
    "Hello, world! How are you? I'm fine, thanks. We've seen they're here.",
    "東京は日本の首都です。北京是中国的首都。",
    "Emoji 😀 and symbols like © ® ™ € £ ¥ are rare but real.",
    "Transformers use attention: softmax(QK^T / sqrt(d)) V, as in the paper.",
    "Low-rank adapters (LoRA) add B @ A to a frozen weight W with a scale alpha / r.",
    "Servers answer requests; encoders embed sentences; decoders generate tokens.",
    "Straße, İstanbul, ΣΊΣΥΦΟΣ, Ελληνικά and русский текст are also here.",
]

# Varied inputs: ASCII, accents, CJK, emoji, whitespace runs, tabs/newlines, numbers, code,
# punctuation, the empty string, a very long word, control characters and added tokens.
TEXTS = [
    "",
    " ",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing spaces   ",
    "multiple     spaces\tand\ttabs\nand\nnewlines\r\nCRLF",
    "Café naïve résumé FAÇADE Ærøskøbing",
    "e\u0301 composed vs decomposed é",
    "東京は日本の首都です。北京是中国的首都。",
    "한국어 텍스트와 ひらがな カタカナ",
    "Emoji 😀👍🏽 and 🇺🇳 flags, 🥲 newer emoji",
    "Numbers: 3.14159, 42, 1,000,000 and 2026-11-23.",
    "def f(x):\n    return x**2 + 1  # square",
    "if (a && b || !c) { return a[0] <= b->c; }",
    "Punctuation!!! ??? ... --- ;;; ::: \"quotes\" 'single' «guillemets» ¿qué? ¡sí!",
    "I'm sure they're here, we've done it, don't you think? It's John's.",
    "Straße İstanbul ΣΊΣΥΦΟΣ Ελληνικά русский",
    "supercalifragilisticexpialidocious" * 4,
    "x" * 120,
    "zero\u200bwidth\u00a0nbsp\u3000ideographic space",
    "control\u0000chars\u0007and\ufffdreplacement\u00adsoft hyphen",
    "[CLS] already [SEP] special [MASK] tokens [UNK]",
    "a [MASK]b and   [MASK] with eckart and Eckart ECKART",
    "<s>byte level</s> <bos> <eos> <|endoftext|>",
    "Transformers use attention: softmax(QK^T / sqrt(d)) V",
    "mixed العربية עברית हिन्दी ไทย text",
    "tabs\t\t\tonly\t",
    "\n\n\n",
    "I'M HERE, YOU'RE THERE; WE'VE SEEN 'EM. It'S HE'LL SHE'D",
    "digits 1234567 and 12345678901 and ٣٤٥ and ½",
    "line1\r\n\r\n  line2\n \n\tend  \n  ",
    "  \t  x  \n\n  y",
]


def random_texts(count: int = 40) -> list[str]:
    """Seeded random strings; the alphabet mixes every character class the splitters distinguish."""
    rng = random.Random(1234)
    alphabet = (list("abcXYZ") + list("0123456789") + ["é", "e\u0301", "ß", "ſ", "İ", "Σ", "ς"]
                + list("東京한ひ") + ["😀", "👍🏽", "\u200b", "\u00a0", "\u3000", "\u00ad", "\ufffd"]
                + [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "'", "'s", "'S", "'ll", "'RE"]
                + list(".,;:!?-_()[]{}<>\"#$%&*+/=@^`|~") + ["²", "½", "٣", "Ⅻ", "«", "»", "—"]
                + ["[MASK]", "<s>", "eckart", "##", "▁"])
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(count)]


LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def wordpiece_vocab(normalizer, pre_tokenizer, specials: list[str], size: int) -> dict[str, int]:
    """A WordPiece vocabulary built deterministically from CORPUS (the `tokenizers` WordPiece trainer
    orders ties by a Rust hash map, so its vocabulary changes from run to run): the specials, every
    character both word-initial and as a `##` continuation, then whole words and `##` suffixes of
    2-4 characters by corpus frequency (ties by text) until `size`. Only membership matters to
    WordPiece's greedy longest match; the ids follow this order."""
    words: dict[str, int] = {}
    for text in CORPUS:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            words[word] = words.get(word, 0) + 1
    alphabet = sorted({c for w in words for c in w})
    vocab = list(specials) + alphabet + ["##" + c for c in alphabet]
    pieces: dict[str, int] = {}
    for word, count in words.items():
        if len(word) > 1:
            pieces[word] = pieces.get(word, 0) + count
        for length in range(2, 5):
            if len(word) > length:
                suffix = "##" + word[-length:]
                pieces[suffix] = pieces.get(suffix, 0) + count
    for piece, _ in sorted(pieces.items(), key=lambda item: (-item[1], item[0])):
        if len(vocab) >= size:
            break
        if piece not in vocab:
            vocab.append(piece)
    return {token: i for i, token in enumerate(vocab)}


def wordpiece_tokenizer(normalizer, specials: list[str], size: int, max_chars: int) -> Tokenizer:
    """A WordPiece tokenizer over `wordpiece_vocab`, with BERT's pre-tokenizer and the specials."""
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok = Tokenizer(models.WordPiece(wordpiece_vocab(normalizer, pre_tokenizer, specials, size),
                                     unk_token="[UNK]", max_input_chars_per_word=max_chars))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.add_special_tokens(specials)
    return tok


def train_wordpiece_uncased() -> Tokenizer:
    tok = wordpiece_tokenizer(normalizers.BertNormalizer(lowercase=True),
                              ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], size=500, max_chars=100)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, normalized=False, special=True)])
    tok.add_tokens([AddedToken("eckart", normalized=True, special=False)])
    return tok


def train_wordpiece_cased() -> Tokenizer:
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    tok = wordpiece_tokenizer(normalizer, ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"], size=700, max_chars=20)
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    return tok


def train_bpe_bytelevel() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 3, trainer)
    bos = tok.token_to_id("<bos>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A <bos>:1 $B:1",
                                      special_tokens=[("<bos>", bos)]),
    ])
    return tok


def train_bpe_split(pattern: str, nfc: bool, bos: str | None, ignore_merges: bool) -> Tokenizer:
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>"] if bos else ["<|endoftext|>", "<|im_start|>"]
    trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 3, trainer)
    steps = [processors.ByteLevel(trim_offsets=False)]
    if bos:
        steps.append(processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos}:1 $B:1",
            special_tokens=[(bos, tok.token_to_id(bos))]))
    tok.post_processor = processors.Sequence(steps)
    return tok


def with_byte_fallback(tok: Tokenizer, specials: list[str]) -> Tokenizer:
    """Inserts <0x00>..<0xFF> right after the special tokens, as Llama's vocabulary does."""
    data = json.loads(tok.to_str())
    old = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    rest = [t for t, _ in old if t not in specials]
    tokens = specials + [f"<0x{b:02X}>" for b in range(256)] + rest
    data["model"]["vocab"] = {t: i for i, t in enumerate(tokens)}
    data["model"]["byte_fallback"] = True
    data["model"]["fuse_unk"] = True
    for added in data["added_tokens"]:
        added["id"] = specials.index(added["content"])
    return Tokenizer.from_str(json.dumps(data))


def train_bpe_sentencepiece() -> Tokenizer:
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials)
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok = with_byte_fallback(tok, specials)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", 1)])
    tok.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)])
    return tok


def train_bpe_metaspace() -> Tokenizer:
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials)
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok = with_byte_fallback(tok, specials)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", 1)])
    tok.decoder = decoders.Sequence([
        decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first")])
    return tok


def cases(tok: Tokenizer) -> list[dict]:
    tok.no_padding()
    tok.no_truncation()
    out = []
    for text in TEXTS + random_texts():
        ids = tok.encode(text, add_special_tokens=True).ids
        out.append({
            "text": text,
            "ids": ids,
            "ids_no_special": tok.encode(text, add_special_tokens=False).ids,
            "decoded": tok.decode(ids, skip_special_tokens=True),
            "decoded_with_special": tok.decode(ids, skip_special_tokens=False),
        })
    return out


def main() -> None:
    all_cases: dict[str, list[dict]] = {}
    vocab_sizes: dict[str, int] = {}
    for name, make in [("wordpiece-uncased", train_wordpiece_uncased),
                       ("wordpiece-cased", train_wordpiece_cased),
                       ("bpe-bytelevel", train_bpe_bytelevel),
                       ("bpe-llama3", lambda: train_bpe_split(LLAMA3_PATTERN, False, "<|begin_of_text|>", True)),
                       ("bpe-qwen2", lambda: train_bpe_split(QWEN2_PATTERN, True, None, False)),
                       ("bpe-sentencepiece", train_bpe_sentencepiece),
                       ("bpe-metaspace", train_bpe_metaspace)]:
        tok = make()
        tok.save(str(HERE / f"{name}.json"), pretty=True)
        # Re-load from disk so the cases come from exactly the file the Swift tests read.
        all_cases[name] = cases(Tokenizer.from_file(str(HERE / f"{name}.json")))
        vocab_sizes[name] = tok.get_vocab_size(with_added_tokens=True)
        print(f"{name}: vocab {vocab_sizes[name]}")
    if MINILM.exists():
        minilm = Tokenizer.from_file(str(MINILM))
        all_cases["all-MiniLM-L6-v2"] = cases(minilm)
        vocab_sizes["all-MiniLM-L6-v2"] = minilm.get_vocab_size(with_added_tokens=True)
    else:
        print(f"skipping all-MiniLM-L6-v2: {MINILM} not found")
    with open(HERE / "cases.json", "w", encoding="utf-8") as f:
        # One case per line: small diffs, no megabyte of indentation.
        blocks = []
        for name, rows in all_cases.items():
            lines = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows)
            blocks.append(f" {json.dumps(name)}: [\n{lines}\n ]")
        f.write("{\n" + ",\n".join(blocks) + "\n}\n")
    with open(HERE / "vocab_sizes.json", "w", encoding="utf-8") as f:
        json.dump(vocab_sizes, f, indent=1, sort_keys=True)
        f.write("\n")
    write_manifest()


def write_manifest():
    """Pins every generated file by SHA-256 (sha256sum format), checked by the Swift tests."""
    import hashlib
    files = sorted(p for p in HERE.iterdir() if p.suffix == ".json")
    with open(HERE / "MANIFEST.sha256", "w") as f:
        for path in files:
            f.write(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")


if __name__ == "__main__":
    main()
