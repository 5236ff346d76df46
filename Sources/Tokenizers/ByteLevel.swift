// The byte-level pre-tokenizer of GPT-2 (`tokenizers/src/pre_tokenizers/byte_level.rs`): split with
// the GPT-2 pattern, then write every UTF-8 byte as one printable character so the BPE vocabulary
// never needs an unknown token.
//
// The pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` is matched
// by hand below, alternative by alternative, instead of through a regex engine.

/// `{"type": "ByteLevel", "add_prefix_space", "use_regex", "trim_offsets"}` as a pre-tokenizer.
struct ByteLevel: PreTokenizer {
    var addPrefixSpace = false
    var useRegex = true

    init(_ json: JSONReader) throws {
        addPrefixSpace = try json.bool("add_prefix_space", default: true)
        useRegex = try json.bool("use_regex", default: true)
    }

    func split(_ text: Scalars, atStart: Bool) -> [Scalars] {
        var text = text
        if addPrefixSpace, text.first != " " { text.insert(" ", at: 0) }
        let words = useRegex ? Self.gpt2Split(text) : [text]
        return words.map { word in
            Array(word.string.utf8).map { Self.scalarOfByte[Int($0)] }
        }
    }

    /// The 256 printable stand-ins: printable Latin-1 bytes map to themselves, the other 68 bytes
    /// to U+0100, U+0101, ... in byte order.
    static let scalarOfByte: [Unicode.Scalar] = {
        var next: UInt32 = 256
        return (0..<256).map { byte in
            let b = UInt32(byte)
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                return Unicode.Scalar(b)!
            }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    static let byteOfScalar: [Unicode.Scalar: UInt8] = Dictionary(
        uniqueKeysWithValues: scalarOfByte.enumerated().map { ($0.element, UInt8($0.offset)) })

    /// The GPT-2 pattern's matches, which cover the whole text.
    static func gpt2Split(_ s: Scalars) -> [Scalars] {
        var words: [Scalars] = []
        var i = 0
        while i < s.count {
            let end = matchEnd(s, at: i)
            words.append(Array(s[i..<end]))
            i = end
        }
        return words
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { isUnicodeLetter(c) }

    private static func isNumber(_ c: Unicode.Scalar) -> Bool { isUnicodeNumber(c) }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    private static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    /// End of the first alternative that matches at `i` (there is always one).
    private static func matchEnd(_ s: Scalars, at i: Int) -> Int {
        // 's 't 're 've 'm 'll 'd
        if s[i] == "'" {
            for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
                let tail = Scalars(suffix)
                if s.count - i - 1 >= tail.count, s[(i + 1)..<(i + 1 + tail.count)].elementsEqual(tail) {
                    return i + 1 + tail.count
                }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
        let j = s[i] == " " ? i + 1 : i
        for klass in [isLetter, isNumber, isOther] where j < s.count && klass(s[j]) {
            var end = j
            while end < s.count, klass(s[end]) { end += 1 }
            return end
        }
        // `\s+(?!\S)` then `\s+`
        var end = i
        while end < s.count, isSpace(s[end]) { end += 1 }
        if end == s.count || end - 1 == i { return end }
        return end - 1
    }
}
