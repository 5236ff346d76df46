// Added and special tokens (`tokenizers/src/tokenizer/added_vocabulary.rs`): they are cut out of
// the text before the model sees it. Tokens with `normalized: false` are matched in the raw text;
// then each remaining piece is normalized and tokens with `normalized: true` are matched in it
// (against their own normalized content). Matching is leftmost-longest, as the reference's
// Aho-Corasick automaton does. `lstrip` / `rstrip` swallow adjacent whitespace; `single_word` is
// refused at load time.

/// A run of text still to be tokenized, or an id already decided by an added token.
enum Piece: Equatable {
    case text(Scalars)
    case token(Int)
}

/// One entry of `added_tokens`.
struct AddedToken: Sendable {
    let id: Int
    let content: Scalars
    let special: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool

    init(_ json: JSONReader) throws {
        id = try json.required("id").int()
        content = Scalars(try json.required("content").string())
        special = try json.bool("special", default: false)
        lstrip = try json.bool("lstrip", default: false)
        rstrip = try json.bool("rstrip", default: false)
        normalized = try json.bool("normalized", default: !special)
        if try json.bool("single_word", default: false) {
            throw json.unsupported(option: "single_word", value: "true")
        }
        if content.isEmpty { throw json.invalid("non-empty \"content\"") }
    }
}

/// The added-token table and the two-stage splitter.
struct AddedTokens: Sendable {
    let tokens: [AddedToken]
    /// (pattern, index into `tokens`) for `normalized: false` tokens, matched in raw text.
    private let rawPatterns: [(Scalars, Int)]
    /// (normalized content, index into `tokens`) for `normalized: true` tokens.
    private let normalizedPatterns: [(Scalars, Int)]

    init(_ tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var raw: [(Scalars, Int)] = [], normalized: [(Scalars, Int)] = []
        for (index, token) in tokens.enumerated() {
            if token.normalized {
                normalized.append((normalizer?.normalize(token.content) ?? token.content, index))
            } else {
                raw.append((token.content, index))
            }
        }
        rawPatterns = raw.filter { !$0.0.isEmpty }
        normalizedPatterns = normalized.filter { !$0.0.isEmpty }
    }

    /// Splits `text` into added tokens and normalized text pieces.
    func split(_ text: Scalars, normalizer: (any Normalizer)?) -> [Piece] {
        var pieces: [Piece] = []
        for piece in Self.find(rawPatterns, in: text, tokens: tokens) {
            guard case .text(let raw) = piece else { pieces.append(piece); continue }
            let normalized = normalizer?.normalize(raw) ?? raw
            pieces += Self.find(normalizedPatterns, in: normalized, tokens: tokens)
        }
        return pieces.filter { $0 != .text([]) }
    }

    /// Leftmost-longest matches of `patterns` in `text`, with the unmatched text between them.
    private static func find(_ patterns: [(Scalars, Int)], in text: Scalars, tokens: [AddedToken]) -> [Piece] {
        if patterns.isEmpty { return [.text(text)] }
        var pieces: [Piece] = []
        var consumed = 0  // text[..<consumed] is already in `pieces`
        var i = 0
        while i < text.count {
            var best: (length: Int, index: Int)?
            for (pattern, index) in patterns where pattern.count > (best?.length ?? 0) {
                if text.count - i >= pattern.count, text[i..<(i + pattern.count)].elementsEqual(pattern) {
                    best = (pattern.count, index)
                }
            }
            guard let match = best else { i += 1; continue }
            let token = tokens[match.index]
            var start = i, stop = i + match.length
            if token.lstrip {
                while start > consumed, text[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.rstrip {
                while stop < text.count, text[stop].properties.isWhitespace { stop += 1 }
            }
            if consumed < start { pieces.append(.text(Array(text[consumed..<start]))) }
            pieces.append(.token(token.id))
            consumed = stop
            i = stop
        }
        if consumed < text.count { pieces.append(.text(Array(text[consumed...]))) }
        return pieces
    }
}
