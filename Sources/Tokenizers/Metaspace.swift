// The Metaspace pre-tokenizer (`tokenizers/src/pre_tokenizers/metaspace.rs`) of SentencePiece
// models: spaces become "▁", a "▁" is prepended (always, only at the start of the text, or never),
// and with `split` every "▁" starts a new word.

/// `{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"|"first"|"never", "split"}`.
struct Metaspace: PreTokenizer {
    enum PrependScheme: String { case always, first, never }

    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let split: Bool

    init(_ json: JSONReader) throws {
        let replacement = Scalars(try json.optional("replacement")?.string() ?? "▁")
        guard replacement.count == 1 else { throw json.invalid("a one-character \"replacement\"", key: "replacement") }
        self.replacement = replacement[0]
        if let scheme = json.optional("prepend_scheme") {
            let name = try scheme.string()
            guard let parsed = PrependScheme(rawValue: name) else { throw scheme.unsupported(option: "prepend_scheme", value: name) }
            prependScheme = parsed
        } else {
            // Files written before `prepend_scheme` existed carry `add_prefix_space`.
            prependScheme = try json.bool("add_prefix_space", default: true) ? .always : .never
        }
        split = try json.bool("split", default: true)
    }

    func split(_ text: Scalars, atStart: Bool) -> [Scalars] {
        var text = text.map { $0 == " " ? replacement : $0 }
        let prepend = prependScheme == .always || (prependScheme == .first && atStart)
        if prepend, text.first != replacement { text.insert(replacement, at: 0) }
        guard split else { return [text] }
        // Each "▁" begins a word (the reference's MergedWithNext).
        var words: [Scalars] = []
        var current: Scalars = []
        for c in text {
            if c == replacement, !current.isEmpty { words.append(current); current = [] }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
