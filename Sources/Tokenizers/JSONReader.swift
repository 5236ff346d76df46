// Typed, path-aware access to the JSON tree of a tokenizer.json, so every decoding failure says
// which file and which key ("model.vocab.[UNK]") was wrong.
import Formats

/// A JSON value with the file and key path it came from.
struct JSONReader {
    let file: String
    let path: String
    let value: JSONValue

    /// The member `key`, or nil when absent or `null`.
    func optional(_ key: String) -> JSONReader? {
        guard let member = value[key], !member.isNull else { return nil }
        return JSONReader(file: file, path: path.isEmpty ? key : path + "." + key, value: member)
    }

    /// The member `key`; throws when absent or `null`.
    func required(_ key: String) throws -> JSONReader {
        guard let member = optional(key) else { throw invalid("a value for \"\(key)\"", key: key) }
        return member
    }

    func string() throws -> String {
        guard let s = value.stringValue else { throw invalid("a string") }
        return s
    }

    func int() throws -> Int {
        guard let i = value.intValue else { throw invalid("an integer") }
        return i
    }

    func bool() throws -> Bool {
        guard let b = value.boolValue else { throw invalid("a boolean") }
        return b
    }

    func array() throws -> [JSONReader] {
        guard let a = value.arrayValue else { throw invalid("an array") }
        return a.enumerated().map { JSONReader(file: file, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    /// Object members in document order.
    func members() throws -> [(key: String, value: JSONReader)] {
        guard let o = value.objectValue else { throw invalid("an object") }
        return o.members.map { ($0.key, JSONReader(file: file, path: path.isEmpty ? $0.key : path + "." + $0.key, value: $0.value)) }
    }

    /// `key` as a boolean, `fallback` when absent.
    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try optional(key)?.bool() ?? fallback
    }

    /// The `type` member of a component object.
    func type() throws -> String { try required("type").string() }

    func invalid(_ expected: String, key: String? = nil) -> TokenizerError {
        .invalidField(file: file, path: key.map { path.isEmpty ? $0 : path + "." + $0 } ?? path,
                      expected: expected)
    }

    func unsupported(_ type: String) -> TokenizerError {
        .unsupportedComponent(file: file, path: path, type: type)
    }

    func unsupported(option: String, value: String) -> TokenizerError {
        .unsupportedOption(file: file, path: path, option: option, value: value)
    }
}
