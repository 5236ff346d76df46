// A GGUF file's chat template: `tokenizer.chat_template`, with the special tokens the template may
// name (bos_token, eos_token, unk_token, pad_token) spelled from `tokenizer.ggml.tokens`, as
// transformers sets them when it builds a tokenizer from the file.
import Formats

extension ChatTemplate {
    /// The file's chat template; nil when it has none.
    /// - Throws: `GGUFError` for mistyped metadata, `TemplateError` for a template Eckart cannot parse.
    public static func load(gguf file: GGUFFile) throws -> ChatTemplate? {
        guard file["tokenizer.chat_template"] != nil else { return nil }
        let source = try file.string("tokenizer.chat_template")
        let tokens = file["tokenizer.ggml.tokens"] != nil ? try file.stringArray("tokenizer.ggml.tokens") : []
        var special: [String: String] = [:]
        for (name, key) in [("bos_token", "tokenizer.ggml.bos_token_id"), ("eos_token", "tokenizer.ggml.eos_token_id"),
                            ("unk_token", "tokenizer.ggml.unknown_token_id"), ("pad_token", "tokenizer.ggml.padding_token_id")] {
            if let id = file[key]?.int, tokens.indices.contains(id) { special[name] = tokens[id] }
        }
        return try ChatTemplate(source: source, specialTokens: special)
    }
}
