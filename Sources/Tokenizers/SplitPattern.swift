// The `Split` pre-tokenizer of Llama 3 and Qwen2 (`tokenizers/src/pre_tokenizers/split.rs`).
//
// Eckart has no Oniguruma-compatible regex engine, so instead of interpreting the `Regex` it
// recognizes the two published patterns by their exact text and matches them by hand, alternative
// by alternative, with the backtracking each alternative implies. Any other pattern, a `String`
// pattern, a behavior other than `Isolated`, or `invert: true` is refused at load time.
//
//   Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//            | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2:   the same with \p{N} (one digit) instead of \p{N}{1,3}

/// `{"type": "Split", "pattern": {"Regex": <Llama 3 or Qwen2 pattern>}, "behavior": "Isolated"}`.
struct SplitPattern: PreTokenizer {
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Longest run of digits one alternative takes: 3 for Llama 3, 1 for Qwen2.
    let maxDigits: Int

    init(_ json: JSONReader) throws {
        let pattern = try json.required("pattern")
        guard let regex = try pattern.optional("Regex")?.string() else {
            throw pattern.unsupported(option: "pattern", value: pattern.value.serialized())
        }
        switch regex {
        case Self.llama3: maxDigits = 3
        case Self.qwen2: maxDigits = 1
        default: throw pattern.unsupported(option: "Regex", value: regex)
        }
        let behavior = try json.required("behavior").string()
        guard behavior == "Isolated" else { throw json.unsupported(option: "behavior", value: behavior) }
        if try json.bool("invert", default: false) { throw json.unsupported(option: "invert", value: "true") }
    }

    func split(_ text: Scalars, atStart: Bool) -> [Scalars] {
        var words: [Scalars] = []
        var i = 0
        while i < text.count {
            let end = matchEnd(text, at: i)
            words.append(Array(text[i..<end]))
            i = end
        }
        return words
    }

    /// End of the first alternative that matches at `i`; the last one, `\s+`, or one of the
    /// letter / digit / other alternatives always matches.
    private func matchEnd(_ s: Scalars, at i: Int) -> Int {
        let n = s.count
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if s[i] == "'" {
            let folded = s[(i + 1)...].prefix(2).map { c -> Unicode.Scalar in
                c == "\u{17F}" ? "s" : Unicode.Scalar(c.properties.lowercaseMapping.unicodeScalars.first!.value)!
            }
            for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
                let tail = Scalars(suffix)
                if folded.starts(with: tail), s[(i + 1)...].prefix(tail.count).allSatisfy({ $0.isASCII || $0 == "\u{17F}" }) {
                    return i + 1 + tail.count
                }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var j = i
        if !isNewline(s[j]), !isUnicodeLetter(s[j]), !isUnicodeNumber(s[j]), j + 1 < n, isUnicodeLetter(s[j + 1]) { j += 1 }
        if isUnicodeLetter(s[j]) {
            while j < n, isUnicodeLetter(s[j]) { j += 1 }
            return j
        }
        // \p{N}{1,maxDigits}
        if isUnicodeNumber(s[i]) {
            j = i
            while j < n, j - i < maxDigits, isUnicodeNumber(s[j]) { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        j = s[i] == " " && i + 1 < n ? i + 1 : i
        if isOtherSymbol(s[j]) {
            while j < n, isOtherSymbol(s[j]) { j += 1 }
            while j < n, isNewline(s[j]) { j += 1 }
            return j
        }
        // \s*[\r\n]+ : ends after the last CR/LF of the whitespace run.
        var end = i
        var afterLastNewline: Int?
        while end < n, s[end].properties.isWhitespace {
            if isNewline(s[end]) { afterLastNewline = end + 1 }
            end += 1
        }
        if let afterLastNewline { return afterLastNewline }
        // \s+(?!\S) then \s+
        if end == n || end - 1 == i { return end }
        return end - 1
    }
}

/// `{"type": "Sequence", "pretokenizers": [...]}`: each step splits every piece of the previous.
struct PreTokenizerSequence: PreTokenizer {
    let steps: [any PreTokenizer]

    func split(_ text: Scalars, atStart: Bool) -> [Scalars] {
        steps.reduce([text]) { pieces, step in
            pieces.enumerated().flatMap { index, piece in step.split(piece, atStart: atStart && index == 0) }
        }
    }
}

private func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }

/// `\p{L}`: Lu, Ll, Lt, Lm, Lo.
func isUnicodeLetter(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
}

/// `\p{N}`: Nd, Nl, No.
func isUnicodeNumber(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
}

/// `[^\s\p{L}\p{N}]`.
private func isOtherSymbol(_ c: Unicode.Scalar) -> Bool {
    !c.properties.isWhitespace && !isUnicodeLetter(c) && !isUnicodeNumber(c)
}
