// BERT's pre-tokenizer (`tokenizers/src/pre_tokenizers/bert.rs`): split on whitespace (removed),
// then isolate every punctuation character as its own word.

/// Splits normalized text into the words the model tokenizes one at a time.
protocol PreTokenizer: Sendable {
    /// `atStart` is true when `text` begins at offset 0 of the input (Metaspace "first").
    func split(_ text: [Unicode.Scalar], atStart: Bool) -> [[Unicode.Scalar]]
}

/// `{"type": "BertPreTokenizer"}`.
struct BertPreTokenizer: PreTokenizer {
    func split(_ text: [Unicode.Scalar], atStart: Bool) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current); current.removeAll() }
        }
        for c in text {
            if c.properties.isWhitespace {
                flush()
            } else if isBertPunctuation(c) {
                flush()
                words.append([c])
            } else {
                current.append(c)
            }
        }
        flush()
        return words
    }
}

/// ASCII punctuation (all of `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` and backtick, including symbols
/// such as `$` and `+`) or any Unicode punctuation category (Pc, Pd, Ps, Pe, Pi, Pf, Po).
func isBertPunctuation(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
    default: break
    }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return true
    default:
        return false
    }
}
