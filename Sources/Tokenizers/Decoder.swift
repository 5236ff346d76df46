// Decoders (`tokenizers/src/decoders/`): token strings back to text. Each step maps the list of
// token strings to a new list (`decode_chain`); the result is joined without separator. Without a
// decoder the reference joins tokens with single spaces.
//
// WordPiece glues "##" continuations and optionally applies `cleanup`; ByteLevel maps the GPT-2 byte
// alphabet back to bytes; Replace, ByteFallback, Fuse, Strip and Metaspace are the SentencePiece
// steps.

/// Turns the token strings of an id sequence into text.
indirect enum Decoder: Sendable {
    case none
    case wordPiece(prefix: Scalars, cleanup: Bool)
    case byteLevel
    case replace(pattern: Scalars, content: Scalars)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case metaspace(replacement: Unicode.Scalar, prependScheme: Metaspace.PrependScheme)
    case sequence([Decoder])

    init(_ json: JSONReader?) throws {
        guard let json else { self = .none; return }
        switch try json.type() {
        case "WordPiece":
            self = .wordPiece(prefix: Scalars(try json.optional("prefix")?.string() ?? "##"),
                              cleanup: try json.bool("cleanup", default: true))
        case "ByteLevel":
            self = .byteLevel
        case "Replace":
            let replace = try Replace(json)
            self = .replace(pattern: replace.pattern, content: replace.content)
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            let content = Scalars(try json.required("content").string())
            guard content.count == 1 else { throw json.invalid("a one-character \"content\"", key: "content") }
            self = .strip(content: content[0], start: try json.required("start").int(),
                          stop: try json.required("stop").int())
        case "Metaspace":
            let metaspace = try Metaspace(json)
            self = .metaspace(replacement: metaspace.replacement, prependScheme: metaspace.prependScheme)
        case "Sequence":
            self = .sequence(try json.required("decoders").array().map { try Decoder($0) })
        case let other:
            throw json.unsupported(other)
        }
    }

    func decode(_ tokens: [String]) -> String {
        if case .none = self { return tokens.joined(separator: " ") }
        return chain(tokens.map { Scalars($0) }).map(\.string).joined()
    }

    /// One step: token strings (as scalars) to token strings.
    private func chain(_ tokens: [Scalars]) -> [Scalars] {
        switch self {
        case .none:
            return tokens
        case .wordPiece(let prefix, let cleanup):
            return tokens.enumerated().map { index, token in
                var text = token
                if index != 0 {
                    text = token.starts(with: prefix) ? Array(token.dropFirst(prefix.count)) : [" "] + token
                }
                return cleanup ? Self.cleanup(text) : text
            }
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                let mapped = token.map { ByteLevel.byteOfScalar[$0] }
                // A token outside the byte alphabet (an added token) keeps its own UTF-8.
                bytes += mapped.allSatisfy { $0 != nil } ? mapped.map { $0! } : Array(token.string.utf8)
            }
            return [Scalars(String(decoding: bytes, as: UTF8.self))]
        case .replace(let pattern, let content):
            return tokens.map { replacingAll($0, pattern, content) }
        case .byteFallback:
            var out: [Scalars] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    out.append(Scalars(text))
                } else {
                    out += Array(repeating: ["\u{FFFD}"], count: pending.count)
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.flatMap { $0 }]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                var lower = 0, upper = token.count
                while lower < min(start, token.count), token[lower] == content { lower += 1 }
                var stripped = 0
                while stripped < stop, upper > lower, token[upper - 1] == content { upper -= 1; stripped += 1 }
                return Array(token[lower..<upper])
            }
        case .metaspace(let replacement, let prependScheme):
            return tokens.enumerated().map { index, token in
                token.compactMap { c in
                    guard c == replacement else { return c }
                    return index == 0 && prependScheme != .never ? nil : " "
                }
            }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.chain($0) }
        }
    }

    /// The byte of a `<0xXX>` token (exactly six characters, two hex digits).
    private static func fallbackByte(_ token: Scalars) -> UInt8? {
        guard token.count == 6, token.starts(with: Scalars("<0x")), token.last == ">" else { return nil }
        return UInt8(Array(token[3..<5]).string, radix: 16)
    }

    /// The reference's WordPiece `cleanup`: spaces before punctuation and English contractions.
    static func cleanup(_ text: Scalars) -> Scalars {
        let replacements = [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ]
        return replacements.reduce(text) { replacingAll($0, Scalars($1.0), Scalars($1.1)) }
    }
}
