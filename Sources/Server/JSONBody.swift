// Reading request bodies with the strict JSON parser, with errors that name the field.
import Formats
import HTTP

/// The top-level object of a JSON request body, read field by field.
struct JSONBody {
    let object: JSONObject

    init(_ request: HTTPRequest) throws {
        // curl -d sends application/x-www-form-urlencoded unless told otherwise; this API is made
        // for curl, so that type is read as JSON too.
        let contentType = request.headers["Content-Type"]?.lowercased() ?? "application/json"
        guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw HTTPError(.unsupportedMediaType, code: "unsupported_media_type",
                            message: "expected Content-Type application/json, got \(contentType)")
        }
        guard let object = try JSONValue.parse(request.body).objectValue else {
            throw HTTPError.badRequest("request body must be a JSON object", code: "invalid_json")
        }
        self.object = object
    }

    /// Refuses fields this endpoint does not know, so typos are not silently ignored.
    func allowOnly(_ fields: Set<String>) throws {
        for key in object.keys where !fields.contains(key) {
            throw HTTPError.badRequest("unknown field \(key); expected one of \(fields.sorted().joined(separator: ", "))", code: "invalid_field")
        }
    }

    func string(_ field: String) throws -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let s = value.stringValue else { throw mismatch(field, "a string", value) }
        return s
    }

    func int(_ field: String) throws -> Int? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let n = value.numberValue, n.isInteger, let i = n.intValue else { throw mismatch(field, "an integer", value) }
        return i
    }

    func bool(_ field: String) throws -> Bool? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let b = value.boolValue else { throw mismatch(field, "a boolean", value) }
        return b
    }

    /// A boolean that may be absent but not `null` (where `null` has no sensible meaning).
    func nonNullBool(_ field: String) throws -> Bool? {
        if let value = object[field], value.isNull { throw mismatch(field, "a boolean", value) }
        return try bool(field)
    }

    /// An array of integers, e.g. token ids.
    func ints(_ field: String) throws -> [Int]? {
        guard let value = object[field], !value.isNull else { return nil }
        return try Self.ints(value, field: field)
    }

    /// An array of arrays of integers, e.g. a batch of token lists.
    func intRows(_ field: String) throws -> [[Int]]? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let rows = value.arrayValue else { throw mismatch(field, "an array of arrays of integers", value) }
        return try rows.enumerated().map { try Self.ints($0.element, field: "\(field)[\($0.offset)]") }
    }

    /// One of `choices`, as a string.
    func choice(_ field: String, _ choices: [String]) throws -> String? {
        guard let s = try string(field) else { return nil }
        guard choices.contains(s) else {
            throw HTTPError.badRequest("field \(field) must be one of \(choices.joined(separator: ", ")), got \(s)", code: "invalid_field")
        }
        return s
    }

    static func ints(_ value: JSONValue, field: String) throws -> [Int] {
        guard let items = value.arrayValue else { throw mismatch(field, "an array of integers", value) }
        return try items.enumerated().map { index, item in
            guard let n = item.numberValue, n.isInteger, let i = n.intValue else {
                throw mismatch("\(field)[\(index)]", "an integer", item)
            }
            return i
        }
    }
}

private func mismatch(_ field: String, _ expected: String, _ value: JSONValue) -> HTTPError {
    HTTPError.badRequest("field \(field) must be \(expected), got \(value.typeName)", code: "invalid_field")
}
