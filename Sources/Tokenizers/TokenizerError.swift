// The one error type of the Tokenizers target. Every case names the file and the JSON path it is
// about, so a refusal ("this tokenizer.json uses X, which Eckart does not implement") is actionable.

/// Why a `tokenizer.json` could not be loaded.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read or is not valid JSON.
    case unreadable(file: String, reason: String)
    /// A required key is missing or has the wrong JSON type.
    case invalidField(file: String, path: String, expected: String)
    /// A component type (normalizer, pre-tokenizer, model, post-processor, decoder) that is not
    /// implemented. Loading refuses it rather than tokenizing differently from the reference.
    case unsupportedComponent(file: String, path: String, type: String)
    /// A known component with an option value that is not implemented.
    case unsupportedOption(file: String, path: String, option: String, value: String)
    /// A token the configuration refers to (unk token, template special token) is not in the
    /// vocabulary.
    case missingToken(file: String, path: String, token: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read tokenizer: \(reason)"
        case .invalidField(let file, let path, let expected):
            return "\(file): \(path): expected \(expected)"
        case .unsupportedComponent(let file, let path, let type):
            return "\(file): \(path): unsupported type \"\(type)\""
        case .unsupportedOption(let file, let path, let option, let value):
            return "\(file): \(path): unsupported \(option) = \(value)"
        case .missingToken(let file, let path, let token):
            return "\(file): \(path): token \"\(token)\" is not in the vocabulary"
        }
    }
}
