// BERT's text normalization, as `tokenizers/src/normalizers/bert.rs` defines it:
// clean text, pad CJK ideographs with spaces, strip accents (NFD, drop nonspacing marks), lowercase.
import Foundation

/// Turns raw text into the text the pre-tokenizer sees. Works on Unicode scalars (Rust `char`s).
protocol Normalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar]
}

/// `{"type": "BertNormalizer", "clean_text", "handle_chinese_chars", "strip_accents", "lowercase"}`.
struct BertNormalizer: Normalizer {
    var cleanText = true
    var handleChineseChars = true
    /// `strip_accents: null` means "follow `lowercase`"; resolved once at load.
    var stripAccents = true
    var lowercase = true

    init(_ json: JSONReader) throws {
        cleanText = try json.bool("clean_text", default: true)
        handleChineseChars = try json.bool("handle_chinese_chars", default: true)
        lowercase = try json.bool("lowercase", default: true)
        stripAccents = try json.optional("strip_accents")?.bool() ?? lowercase
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = text
        // 1. Drop NUL, U+FFFD and control characters; every whitespace becomes " ".
        if cleanText {
            out = out.compactMap { c in
                if c.value == 0 || c.value == 0xFFFD || isControl(c) { return nil }
                return isBertWhitespace(c) ? " " : c
            }
        }
        // 2. Surround each CJK ideograph with spaces so it becomes its own word.
        if handleChineseChars {
            out = out.flatMap { isChineseChar($0) ? [" ", $0, " "] : [$0] }
        }
        // 3. Canonical decomposition, then drop nonspacing marks (Mn): "é" -> "e".
        if stripAccents {
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: out)
            out = String(scalars).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
        }
        // 4. Full per-character lowercase mapping (Rust `char::to_lowercase`, not context-sensitive).
        if lowercase {
            out = out.flatMap { $0.properties.lowercaseMapping.unicodeScalars }
        }
        return out
    }
}

/// Tab, newline and carriage return, plus every `White_Space` character.
func isBertWhitespace(_ c: Unicode.Scalar) -> Bool {
    c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
}

/// "Other" characters (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return.
func isControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    switch c.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate: return true
    default: return false
    }
}

/// The CJK Unified Ideographs blocks BERT treats as one word per character (not Hangul or kana).
func isChineseChar(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
         0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
        return true
    default:
        return false
    }
}
