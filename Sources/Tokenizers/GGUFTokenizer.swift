// A Tokenizer from a GGUF file's `tokenizer.ggml.*` metadata, built as transformers builds it.
//
// Reference: transformers `integrations/gguf/gguf_tokenizer_mapping.py` (`byte_level_tokenizer`,
// `sentencepiece_tokenizer`, `get_merges`, `add_gguf_special_tokens`, `set_split_regex`,
// GGUF_PRE_TOKENIZER_SPLITS), `generate_merges` in `tokenization_utils_base.py`, and the GPT2 and
// Llama tokenizers it hands the vocabulary to. The metadata is turned into the tokenizer.json it
// stands for and loaded by the same `TokenizerFile` code, so GGUF and tokenizer.json models tokenize
// through one path:
//   gpt2 (byte-level BPE): vocab = tokens (respelled in the byte alphabet when a token is not),
//     merges as stored; pre-tokenizer ByteLevel with GPT-2's split, or, for `tokenizer.ggml.pre` in
//     {llama3, llama-bpe, …} / {qwen2, …}, Split(that regex, Isolated) + ByteLevel(use_regex: false);
//     other `pre` values (smollm, default, gpt2) keep GPT-2's split, as transformers does.
//   llama (SentencePiece): BPE with byte fallback over the tokens as spelled; merges as stored or,
//     when the file has none, derived from the vocabulary and `tokenizer.ggml.scores`; Metaspace
//     ("▁", prepended to the first piece); BOS added unless `tokenizer.ggml.add_bos_token` is false
//     (EOS when `add_eos_token` is true); the decoder undoes "▁", byte tokens and the leading space.
//   Control tokens (token_type 3) become special added tokens, user-defined (4) plain added tokens.
import Foundation
import Formats

extension Tokenizer {
    /// `tokenizer.ggml.pre` values whose split regex transformers swaps in (others keep GPT-2's).
    static let ggufLlama3Splits: Set<String> = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                                "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"]
    static let ggufQwen2Splits: Set<String> = ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"]

    /// Builds the tokenizer transformers' `AutoTokenizer.from_pretrained(dir, gguf_file:)` builds.
    /// - Throws: `GGUFError` for missing or mistyped keys; `TokenizerError.unsupportedComponent` for a
    ///   `tokenizer.ggml.model` other than `gpt2` and `llama`.
    public convenience init(gguf: GGUFFile) throws {
        let name = gguf.name + " (GGUF tokenizer.ggml.*)"
        let model = try gguf.string("tokenizer.ggml.model")
        let json: [String: Any]
        switch model {
        case "gpt2": json = try Self.byteLevelJSON(gguf)
        case "llama": json = try Self.sentencePieceJSON(gguf)
        default: throw TokenizerError.unsupportedComponent(file: name, path: "tokenizer.ggml.model", type: model)
        }
        try self.init(data: try JSONSerialization.data(withJSONObject: json), name: name)
    }

    private static func tokenTypes(_ gguf: GGUFFile) throws -> [Int] {
        gguf["tokenizer.ggml.token_type"] != nil ? try gguf.intArray("tokenizer.ggml.token_type") : []
    }

    /// An added token entry of tokenizer.json.
    private static func added(_ id: Int, _ content: String, special: Bool) -> [String: Any] {
        ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": special]
    }

    /// The tokenizer.json of a `gpt2` (byte-level BPE) vocabulary.
    private static func byteLevelJSON(_ gguf: GGUFFile) throws -> [String: Any] {
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        let merges = try gguf.stringArray("tokenizer.ggml.merges")
        let types = try tokenTypes(gguf)

        // Byte-level vocabularies spell every token in GPT-2's byte alphabet; respell any that is not.
        let alphabet = Set(ByteLevel.scalarOfByte)
        func spelled(_ token: String) -> String {
            if token.unicodeScalars.allSatisfy(alphabet.contains) { return token }
            var s = String.UnicodeScalarView()
            for byte in token.utf8 { s.append(ByteLevel.scalarOfByte[Int(byte)]) }
            return String(s)
        }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { vocab[spelled(token)] = id }  // later ids win, as a Python dict

        var addedTokens: [[String: Any]] = []
        for (id, token) in tokens.enumerated() where id < types.count {
            // 3 = CONTROL (special; skipped when not in the byte alphabet: a llama.cpp mislabel),
            // 4 = USER_DEFINED (a plain added token).
            let isControl = types[id] == 3 && token.unicodeScalars.allSatisfy(alphabet.contains)
            guard isControl || types[id] == 4 else { continue }
            addedTokens.append(added(vocab[token] ?? id, token, special: isControl))
        }

        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        var preTokenizer: [String: Any] = byteLevel
        let pre = gguf["tokenizer.ggml.pre"] != nil ? try gguf.string("tokenizer.ggml.pre") : "default"
        let split = Self.ggufLlama3Splits.contains(pre) ? SplitPattern.llama3 : Self.ggufQwen2Splits.contains(pre) ? SplitPattern.qwen2 : nil
        if let split {
            preTokenizer = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": split], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ]]
        }
        return [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens,
            "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer,
            "post_processor": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": false, "vocab": vocab, "merges": merges],
        ]
    }

    /// The tokenizer.json of a `llama` (SentencePiece) vocabulary.
    private static func sentencePieceJSON(_ gguf: GGUFFile) throws -> [String: Any] {
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        let types = try tokenTypes(gguf)
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { vocab[token] = id }  // later ids win, as a Python dict

        let merges: [String]
        if gguf["tokenizer.ggml.merges"] != nil {
            merges = try gguf.stringArray("tokenizer.ggml.merges")
        } else {
            let scores = try gguf.doubleArray("tokenizer.ggml.scores")
            guard scores.count == tokens.count else {
                throw TokenizerError.invalidField(file: gguf.name, path: "tokenizer.ggml.scores",
                                                  expected: "one score per token (\(tokens.count)), found \(scores.count)")
            }
            merges = mergesFromScores(tokens: tokens, scores: scores, vocab: vocab).map { "\($0.0) \($0.1)" }
        }

        // The tokenizer's own unknown, BOS and EOS tokens (the file's ids, else Llama's defaults) and
        // every control token are special; user-defined tokens are plain added tokens.
        func token(_ key: String, default fallback: String) -> String? {
            if let id = gguf[key]?.int, tokens.indices.contains(id) { return tokens[id] }
            return vocab[fallback] != nil ? fallback : nil
        }
        let unk = token("tokenizer.ggml.unknown_token_id", default: "<unk>")
        let bos = token("tokenizer.ggml.bos_token_id", default: "<s>")
        let eos = token("tokenizer.ggml.eos_token_id", default: "</s>")
        var special = Set([unk, bos, eos].compactMap { $0 })
        for (id, token) in tokens.enumerated() where id < types.count && types[id] == 3 { special.insert(token) }
        var addedTokens: [[String: Any]] = special.compactMap { t in vocab[t].map { added($0, t, special: true) } }
        for (id, token) in tokens.enumerated() where id < types.count && types[id] == 4 && !special.contains(token) {
            addedTokens.append(added(vocab[token] ?? id, token, special: false))
        }

        var single: [[String: Any]] = [["Sequence": ["id": "A", "type_id": 0]]]
        var specialTokens: [String: Any] = [:]
        let addBOS = gguf["tokenizer.ggml.add_bos_token"]?.bool ?? true
        let addEOS = gguf["tokenizer.ggml.add_eos_token"]?.bool ?? false
        if addBOS, let bos, let id = vocab[bos] {
            single.insert(["SpecialToken": ["id": bos, "type_id": 0]], at: 0)
            specialTokens[bos] = ["id": bos, "ids": [id], "tokens": [bos]]
        }
        if addEOS, let eos, let id = vocab[eos] {
            single.append(["SpecialToken": ["id": eos, "type_id": 0]])
            specialTokens[eos] = ["id": eos, "ids": [id], "tokens": [eos]]
        }
        return [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "first", "split": false],
            "post_processor": ["type": "TemplateProcessing", "single": single, "pair": single, "special_tokens": specialTokens],
            "decoder": ["type": "Sequence", "decoders": [
                ["type": "Replace", "pattern": ["String": "\u{2581}"], "content": " "],
                ["type": "ByteFallback"], ["type": "Fuse"],
                ["type": "Strip", "content": " ", "start": 1, "stop": 0],
            ]],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": true, "byte_fallback": true,
                      "ignore_merges": false, "vocab": vocab, "merges": merges],
        ]
    }

    /// The merges a SentencePiece vocabulary implies (transformers' `generate_merges` with scores):
    /// every split of a token into two tokens of the vocabulary, those of one token ordered by the
    /// ids of their halves, then all of them by the merged token's score, the longer left half and
    /// then the longer right half first; ties keep that order (a stable sort).
    static func mergesFromScores(tokens: [String], scores: [Double], vocab: [String: Int]) -> [(String, String)] {
        // Python's dict(zip(tokens, scores)): a repeated token keeps its first position, its last score.
        var scoreOf: [String: Double] = [:]
        var order: [String] = []
        for (token, score) in zip(tokens, scores) {
            if scoreOf.updateValue(score, forKey: token) == nil { order.append(token) }
        }
        var merges: [(left: String, right: String, score: Double, leftLength: Int, rightLength: Int)] = []
        for token in order {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(String, String, Int, Int)] = []
            for index in 1..<scalars.count {
                let left = String(String.UnicodeScalarView(scalars[..<index])), right = String(String.UnicodeScalarView(scalars[index...]))
                if let l = vocab[left], let r = vocab[right] { local.append((left, right, l, r)) }
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for (left, right, _, _) in local {
                merges.append((left, right, scoreOf[token]!, left.unicodeScalars.count, right.unicodeScalars.count))
            }
        }
        // Python's sorted(..., reverse=True) is stable: equal keys keep their order.
        let sorted = merges.enumerated().sorted { a, b in
            let ka = (a.element.score, a.element.leftLength, a.element.rightLength)
            let kb = (b.element.score, b.element.leftLength, b.element.rightLength)
            return ka != kb ? ka > kb : a.offset < b.offset
        }
        return sorted.map { ($0.element.left, $0.element.right) }
    }

    /// `tokenizer.chat_template`, the Jinja template the server renders conversations with; nil when absent.
    public static func chatTemplate(gguf: GGUFFile) throws -> String? {
        gguf["tokenizer.chat_template"] != nil ? try gguf.string("tokenizer.chat_template") : nil
    }
}
