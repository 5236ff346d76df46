// The SentencePiece-era normalizers (`tokenizers/src/normalizers/`): Prepend, Replace with a
// literal pattern, the Unicode normalization forms, and Sequence. Regex patterns are refused.
import Foundation

/// `{"type": "Prepend", "prepend": "▁"}`: prefix non-empty text.
struct Prepend: Normalizer {
    let prefix: Scalars

    func normalize(_ text: Scalars) -> Scalars {
        text.isEmpty ? text : prefix + text
    }
}

/// `{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}`.
struct Replace: Normalizer {
    let pattern: Scalars
    let content: Scalars

    init(_ json: JSONReader) throws {
        let pattern = try json.required("pattern")
        if let regex = pattern.optional("Regex") {
            throw regex.unsupported(option: "pattern", value: "Regex")
        }
        self.pattern = Scalars(try pattern.required("String").string())
        content = Scalars(try json.required("content").string())
        if self.pattern.isEmpty { throw pattern.invalid("a non-empty pattern") }
    }

    func normalize(_ text: Scalars) -> Scalars { replacingAll(text, pattern, content) }
}

/// `NFC`, `NFD`, `NFKC`, `NFKD` (Foundation's tables; the reference uses Rust's
/// `unicode-normalization`, so the two can differ only for code points new in one Unicode version).
struct UnicodeForm: Normalizer {
    let form: String

    func normalize(_ text: Scalars) -> Scalars {
        let string = text.string
        let result: String
        switch form {
        case "NFC": result = string.precomposedStringWithCanonicalMapping
        case "NFD": result = string.decomposedStringWithCanonicalMapping
        case "NFKC": result = string.precomposedStringWithCompatibilityMapping
        default: result = string.decomposedStringWithCompatibilityMapping
        }
        return Scalars(result)
    }
}

/// `{"type": "Sequence", "normalizers": [...]}`: each in turn.
struct NormalizerSequence: Normalizer {
    let steps: [any Normalizer]

    func normalize(_ text: Scalars) -> Scalars {
        steps.reduce(text) { $1.normalize($0) }
    }
}

/// Non-overlapping left-to-right replacement on scalars (Rust `str::replace` semantics).
func replacingAll(_ text: Scalars, _ from: Scalars, _ to: Scalars) -> Scalars {
    var out: Scalars = []
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        if text.count - i >= from.count, text[i..<(i + from.count)].elementsEqual(from) {
            out += to
            i += from.count
        } else {
            out.append(text[i])
            i += 1
        }
    }
    return out
}
