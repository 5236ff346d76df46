// A strict JSON parser: RFC 8259 exactly, no extensions.
//
// Reference: RFC 8259 ("The JavaScript Object Notation (JSON) Data Interchange Format"), section 2
// (grammar, whitespace), 6 (numbers), 7 (strings, \u escapes and UTF-16 surrogate pairs) and 8.1
// (UTF-8 without byte order mark); UTF-8 well-formedness from Unicode 15, table 3-7.
//
// Beyond the grammar, this parser refuses what RFC 8259 leaves to implementations: duplicate object
// keys (section 4 "SHOULD be unique"), unpaired surrogate escapes, numbers whose magnitude overflows a
// Double, and nesting deeper than a fixed limit. Every read is bounds-checked against the input, so
// any byte sequence either parses or throws a `JSONError`; nothing traps.
import Foundation

/// Why a document is not strict JSON. Offsets are byte offsets into the input, from 0.
public enum JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended where `expected` was required (truncated document, or empty input).
    case unexpectedEndOfInput(offset: Int, expected: String)
    /// The character `found` at `offset` cannot appear there; `expected` says what could.
    case unexpectedCharacter(offset: Int, found: String, expected: String)
    /// A comma directly before `]` or `}`.
    case trailingComma(offset: Int)
    /// A number with a superfluous leading zero, such as `01` or `-007`.
    case leadingZero(offset: Int)
    /// A number too large in magnitude for a Double, such as `1e400`.
    case numberOutOfRange(offset: Int)
    /// A backslash followed by something other than `" \ / b f n r t u`.
    case invalidEscape(offset: Int, found: String)
    /// `\u` not followed by four hexadecimal digits.
    case invalidUnicodeEscape(offset: Int)
    /// A `\u` escape of a UTF-16 surrogate that is not part of a high-low pair.
    case loneSurrogate(offset: Int, codeUnit: UInt16)
    /// A raw control character (U+0000 to U+001F) inside a string; it must be escaped.
    case controlCharacterInString(offset: Int, byte: UInt8)
    /// Bytes that are not well-formed UTF-8.
    case invalidUTF8(offset: Int)
    /// An object key that appears twice in the same object (at the second occurrence).
    case duplicateKey(String, offset: Int)
    /// Arrays and objects nested more than `limit` levels deep.
    case depthLimitExceeded(offset: Int, limit: Int)
    /// Something other than whitespace after the top-level value.
    case trailingData(offset: Int)

    /// The byte offset the error refers to.
    public var offset: Int {
        switch self {
        case .unexpectedEndOfInput(let offset, _), .unexpectedCharacter(let offset, _, _),
             .trailingComma(let offset), .leadingZero(let offset), .numberOutOfRange(let offset),
             .invalidEscape(let offset, _), .invalidUnicodeEscape(let offset), .loneSurrogate(let offset, _),
             .controlCharacterInString(let offset, _), .invalidUTF8(let offset), .duplicateKey(_, let offset),
             .depthLimitExceeded(let offset, _), .trailingData(let offset):
            return offset
        }
    }

    public var description: String { "invalid JSON: " + detail }

    /// The message without the "invalid JSON: " prefix.
    public var detail: String {
        switch self {
        case .unexpectedEndOfInput(let offset, let expected):
            return "input ends at byte \(offset), expected \(expected)"
        case .unexpectedCharacter(let offset, let found, let expected):
            return "unexpected \(JSONError.describe(found)) at byte \(offset), expected \(expected)"
        case .trailingComma(let offset):
            return "trailing comma at byte \(offset)"
        case .leadingZero(let offset):
            return "number at byte \(offset) has a leading zero"
        case .numberOutOfRange(let offset):
            return "number at byte \(offset) is too large for a 64-bit float"
        case .invalidEscape(let offset, let found):
            return "invalid escape \\\(found) at byte \(offset)"
        case .invalidUnicodeEscape(let offset):
            return "\\u escape at byte \(offset) needs four hexadecimal digits"
        case .loneSurrogate(let offset, let unit):
            return "\\u\(JSONError.hex4(unit)) at byte \(offset) is an unpaired UTF-16 surrogate"
        case .controlCharacterInString(let offset, let byte):
            return "unescaped control character U+\(JSONError.hex4(UInt16(byte))) in string at byte \(offset)"
        case .invalidUTF8(let offset):
            return "malformed UTF-8 at byte \(offset)"
        case .duplicateKey(let key, let offset):
            return "duplicate key \(JSONValue.string(key).serialized()) at byte \(offset)"
        case .depthLimitExceeded(let offset, let limit):
            return "nesting deeper than \(limit) levels at byte \(offset)"
        case .trailingData(let offset):
            return "unexpected data after the value at byte \(offset)"
        }
    }

    /// A character for a message: printable ones quoted, others as U+XXXX.
    static func describe(_ found: String) -> String {
        guard let scalar = found.unicodeScalars.first, found.unicodeScalars.count == 1 else { return "'\(found)'" }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
            return "character U+\(hex4(UInt16(scalar.value)))"
        }
        return "'\(found)'"
    }

    static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// Strict JSON parsing entry points.
extension JSONValue {
    /// The default limit on nested arrays and objects.
    public static let defaultMaxDepth = 128

    /// Parses a complete JSON document from raw bytes (UTF-8, no byte order mark).
    /// - Parameter maxDepth: the deepest nesting of arrays and objects accepted, 1...1024.
    /// - Throws: `JSONError` describing the first violation.
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        precondition((1...1024).contains(maxDepth), "maxDepth must be in 1...1024")
        var parser = JSONParser(input: buffer, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses a complete JSON document from bytes.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0, maxDepth: maxDepth) }
    }

    /// Parses a complete JSON document from `Data`.
    public static func parse(_ data: Data, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try data.withUnsafeBytes { try parse($0, maxDepth: maxDepth) }
    }

    /// Parses a complete JSON document from a string (its UTF-8 encoding).
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

/// A recursive-descent parser over a byte buffer. `index` never passes `end`, and every read
/// checks `index < end` first.
struct JSONParser {
    private let input: UnsafeRawBufferPointer
    private let end: Int
    private let maxDepth: Int
    private var index = 0
    private var depth = 0
    /// Decoded bytes of the string being parsed, when it has escapes or non-ASCII text.
    private var scratch: [UInt8] = []

    init(input: UnsafeRawBufferPointer, maxDepth: Int) {
        self.input = input
        self.end = input.count
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < end { throw JSONError.trailingData(offset: index) }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws -> JSONValue {
        guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "a value") }
        switch input[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpected(at: index, expected: "a value")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws {
        let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for k in 0..<text.count {
            guard index < end else {
                throw JSONError.unexpectedEndOfInput(offset: index, expected: "the rest of '\(literal)'")
            }
            guard input[index] == text[k] else { throw unexpected(at: index, expected: "the rest of '\(literal)'") }
            index += 1
        }
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > maxDepth { throw JSONError.depthLimitExceeded(offset: index, limit: maxDepth) }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        index += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < end, input[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "',' or ']'") }
            switch input[index] {
            case UInt8(ascii: ","):
                let comma = index
                index += 1
                skipWhitespace()
                if index < end, input[index] == UInt8(ascii: "]") { throw JSONError.trailingComma(offset: comma) }
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default:
                throw unexpected(at: index, expected: "',' or ']' after an array element")
            }
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        index += 1  // '{'
        var object = JSONObject()
        skipWhitespace()
        if index < end, input[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "a string key") }
            guard input[index] == UInt8(ascii: "\"") else {
                throw unexpected(at: index, expected: "a string key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            if object.contains(key) { throw JSONError.duplicateKey(key, offset: keyOffset) }
            skipWhitespace()
            guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "':'") }
            guard input[index] == UInt8(ascii: ":") else { throw unexpected(at: index, expected: "':' after an object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            object.appendUnchecked(key: key, value: value)
            skipWhitespace()
            guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "',' or '}'") }
            switch input[index] {
            case UInt8(ascii: ","):
                let comma = index
                index += 1
                skipWhitespace()
                if index < end, input[index] == UInt8(ascii: "}") { throw JSONError.trailingComma(offset: comma) }
            case UInt8(ascii: "}"):
                index += 1
                return .object(object)
            default:
                throw unexpected(at: index, expected: "',' or '}' after an object member")
            }
        }
    }

    // MARK: Numbers

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func requireDigit(after what: String) throws {
        guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "a digit \(what)") }
        guard Self.isDigit(input[index]) else { throw unexpected(at: index, expected: "a digit \(what)") }
    }

    private mutating func skipDigits() {
        while index < end, Self.isDigit(input[index]) { index += 1 }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Integers without fraction or exponent
    /// that fit Int64 or UInt64 are kept exactly; everything else becomes the nearest Double.
    private mutating func parseNumber() throws -> JSONNumber {
        let start = index
        var negative = false
        if input[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        try requireDigit(after: "in the number")
        let integerStart = index
        if input[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, Self.isDigit(input[index]) { throw JSONError.leadingZero(offset: start) }
        } else {
            skipDigits()
        }
        let integerEnd = index
        var isInteger = true
        if index < end, input[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try requireDigit(after: "after the decimal point")
            skipDigits()
        }
        if index < end, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < end, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") { index += 1 }
            try requireDigit(after: "in the exponent")
            skipDigits()
        }

        if isInteger {
            var magnitude: UInt64 = 0
            var overflow = false
            for k in integerStart..<integerEnd where !overflow {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(input[k] &- UInt8(ascii: "0")))
                magnitude = sum
                overflow = o1 || o2
            }
            if !overflow {
                if !negative { return JSONNumber(magnitude) }
                // "-0" stays a Double (-0.0) so the sign survives, as serde_json does.
                if magnitude != 0, magnitude <= UInt64(Int64.max) + 1 {
                    return JSONNumber(Int64(truncatingIfNeeded: 0 &- magnitude))
                }
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw JSONError.numberOutOfRange(offset: start) }
        return JSONNumber(value)
    }

    // MARK: Strings

    private mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: printable ASCII without escapes.
        while index < end {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            index += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<index]))
        while true {
            guard index < end else {
                throw JSONError.unexpectedEndOfInput(offset: index, expected: "'\"' to close the string")
            }
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw JSONError.controlCharacterInString(offset: index, byte: byte)
            case 0x20..<0x80:
                scratch.append(byte)
                index += 1
            default:
                guard let length = utf8SequenceLength(at: index) else { throw JSONError.invalidUTF8(offset: index) }
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + length)]))
                index += length
            }
        }
    }

    private mutating func parseEscape() throws {
        let escapeStart = index
        index += 1  // backslash
        guard index < end else { throw JSONError.unexpectedEndOfInput(offset: index, expected: "an escape character") }
        let byte = input[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalar = UInt32(unit)
            switch unit {
            case 0xD800...0xDBFF:
                guard index + 1 < end else {
                    if index < end, input[index] != UInt8(ascii: "\\") {
                        throw JSONError.loneSurrogate(offset: escapeStart, codeUnit: unit)
                    }
                    throw JSONError.unexpectedEndOfInput(offset: end, expected: "a low surrogate escape \\uDC00-\\uDFFF")
                }
                guard input[index] == UInt8(ascii: "\\"), input[index + 1] == UInt8(ascii: "u") else {
                    throw JSONError.loneSurrogate(offset: escapeStart, codeUnit: unit)
                }
                let lowStart = index
                index += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONError.loneSurrogate(offset: escapeStart, codeUnit: unit)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            case 0xDC00...0xDFFF:
                throw JSONError.loneSurrogate(offset: escapeStart, codeUnit: unit)
            default:
                break
            }
            appendUTF8(scalar)
        default:
            index -= 1
            if describeCharacter(at: index) == nil { throw JSONError.invalidUTF8(offset: index) }
            throw JSONError.invalidEscape(offset: escapeStart, found: describeCharacter(at: index) ?? "?")
        }
    }

    /// Four hexadecimal digits after `\u`.
    private mutating func parseHex4(escapeStart: Int) throws -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard index < end else {
                throw JSONError.unexpectedEndOfInput(offset: index, expected: "four hexadecimal digits after \\u")
            }
            let byte = input[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError.invalidUnicodeEscape(offset: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    // MARK: Whitespace, UTF-8, errors

    private mutating func skipWhitespace() {
        while index < end {
            switch input[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func utf8SequenceLength(at position: Int) -> Int? {
        wellFormedUTF8SequenceLength(in: input, at: position)
    }

    /// The character at `position` as a one-character string, or nil when it is not valid UTF-8.
    private func describeCharacter(at position: Int) -> String? {
        guard let length = utf8SequenceLength(at: position) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]), as: UTF8.self)
    }

    /// `.unexpectedCharacter` for the character at `position`, or `.invalidUTF8` if there is none.
    private func unexpected(at position: Int, expected: String) -> JSONError {
        guard let found = describeCharacter(at: position) else { return .invalidUTF8(offset: position) }
        return .unexpectedCharacter(offset: position, found: found, expected: expected)
    }
}

/// The length of the well-formed UTF-8 sequence starting at `position` in `buffer`, or nil (Unicode
/// table 3-7: no overlong forms, no encoded surrogates, nothing above U+10FFFF, no truncated sequences).
/// `position` must be a valid index.
func wellFormedUTF8SequenceLength(in buffer: UnsafeRawBufferPointer, at position: Int) -> Int? {
    let end = buffer.count
    func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
        position + k < end && buffer[position + k] >= low && buffer[position + k] <= high
    }
    switch buffer[position] {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: return continuation(1) ? 2 : nil
    case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : nil
    case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : nil
    case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : nil
    case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : nil
    default: return nil
    }
}

/// The offset of the first byte of `buffer` that does not start a well-formed UTF-8 sequence, or nil
/// when all of it is well-formed UTF-8.
func firstMalformedUTF8Offset(in buffer: UnsafeRawBufferPointer) -> Int? {
    var position = 0
    while position < buffer.count {
        if buffer[position] < 0x80 {
            position += 1
            continue
        }
        guard let length = wellFormedUTF8SequenceLength(in: buffer, at: position) else { return position }
        position += length
    }
    return nil
}
