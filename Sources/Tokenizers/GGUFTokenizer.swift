// A Tokenizer from a GGUF file's `tokenizer.ggml.*` metadata, built as transformers builds it.
//
// Reference: transformers `integrations/gguf/gguf_tokenizer_mapping.py` (`byte_level_tokenizer`,
// `add_gguf_special_tokens`, `set_split_regex`, GGUF_PRE_TOKENIZER_SPLITS) and the GPT2Tokenizer it
// hands the vocabulary to. The metadata is turned into the tokenizer.json it stands for and loaded by
// the same `TokenizerFile` code, so GGUF and tokenizer.json models tokenize through one path:
//   gpt2 (byte-level BPE): vocab = tokens (respelled in the byte alphabet when a token is not),
//     merges as stored; pre-tokenizer ByteLevel with GPT-2's split, or, for `tokenizer.ggml.pre` in
//     {llama3, llama-bpe, …} / {qwen2, …}, Split(that regex, Isolated) + ByteLevel(use_regex: false);
//     other `pre` values (smollm, default, gpt2) keep GPT-2's split, as transformers does.
//   Control tokens (token_type 3) become special added tokens, user-defined (4) plain added tokens.
// `llama` (SentencePiece) vocabularies are refused by name for now.
import Foundation
import Formats

extension Tokenizer {
    /// `tokenizer.ggml.pre` values whose split regex transformers swaps in (others keep GPT-2's).
    static let ggufLlama3Splits: Set<String> = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                                "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"]
    static let ggufQwen2Splits: Set<String> = ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"]

    /// Builds the tokenizer transformers' `AutoTokenizer.from_pretrained(dir, gguf_file:)` builds.
    /// - Throws: `GGUFError` for missing or mistyped keys; `TokenizerError.unsupportedComponent` for a
    ///   `tokenizer.ggml.model` other than `gpt2`.
    public convenience init(gguf: GGUFFile) throws {
        let name = gguf.name + " (GGUF tokenizer.ggml.*)"
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw TokenizerError.unsupportedComponent(file: name, path: "tokenizer.ggml.model", type: model)
        }
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        let merges = try gguf.stringArray("tokenizer.ggml.merges")
        let types = gguf["tokenizer.ggml.token_type"] != nil ? try gguf.intArray("tokenizer.ggml.token_type") : []

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

        var added: [[String: Any]] = []
        for (id, token) in tokens.enumerated() where id < types.count {
            // 3 = CONTROL (special; skipped when not in the byte alphabet: a llama.cpp mislabel),
            // 4 = USER_DEFINED (a plain added token).
            let isControl = types[id] == 3 && token.unicodeScalars.allSatisfy(alphabet.contains)
            guard isControl || types[id] == 4 else { continue }
            added.append(["id": vocab[token] ?? id, "content": token, "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": isControl])
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
        let json: [String: Any] = [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer,
            "post_processor": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": false, "vocab": vocab, "merges": merges],
        ]
        try self.init(data: try JSONSerialization.data(withJSONObject: json), name: name)
    }

    /// `tokenizer.chat_template`, the Jinja template the server renders conversations with; nil when absent.
    public static func chatTemplate(gguf: GGUFFile) throws -> String? {
        gguf["tokenizer.chat_template"] != nil ? try gguf.string("tokenizer.chat_template") : nil
    }
}
