// A JSON document as a value: the tree `JSONValue.parse` (JSONParser.swift) produces and
// `serialized()` writes back.
//
// Reference: RFC 8259. Objects keep their members in document order; keys are unique (the parser
// refuses duplicates). Strings and keys compare by their UTF-8 bytes (code points), as RFC 8259 section
// 8.3 and serde_json / Python do, not by Swift's canonical equivalence: "\u00e9" and "e\u0301" are
// different keys. Numbers keep integers exact (RFC 8259 section 6 notes that integers beyond
// 2^53 lose precision in IEEE doubles; Int64 and UInt64 literals here do not). Serialization is compact
// and escapes strings as serde_json does: `"`, `\` and U+0000-U+001F only, with \b \f \n \r \t
// short forms and lowercase \u00xx otherwise; everything else is written as raw UTF-8.

/// A JSON value.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number; integers are kept exactly (see `JSONNumber`).
    case number(JSONNumber)
    /// A string (any Unicode text; escapes already decoded).
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object: members in document order, unique keys.
    case object(JSONObject)

    /// The value of a `number` that is an integer and fits `Int` exactly (see `JSONNumber.intValue`).
    public var intValue: Int? {
        if case .number(let n) = self { return n.intValue }
        return nil
    }

    /// The value of a `number` as the nearest Double.
    public var doubleValue: Double? {
        if case .number(let n) = self { return n.doubleValue }
        return nil
    }

    /// The number itself, for exact integer access beyond `Int`.
    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The value of a `bool`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value of a `string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements of an `array`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members of an `object`.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool { self == .null }

    /// Structural equality; strings compare by UTF-8 bytes, numbers by value (`1 == 1.0`), objects
    /// regardless of member order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// The member `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// The name of this value's JSON type, for messages ("null", "boolean", "number", "string",
    /// "array", "object").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Numbers

/// A JSON number. Integers written without fraction or exponent are kept exactly when they fit
/// `Int64` or `UInt64`; other numbers are stored as the nearest `Double`.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    enum Storage: Sendable {
        case int(Int64)
        case uint(UInt64)  // only values above Int64.max
        case double(Double)
        case float(Float)  // serialized with Float's shortest representation
    }

    let storage: Storage

    /// An exact integer.
    public init(_ value: Int64) { storage = .int(value) }
    /// An exact integer.
    public init(_ value: Int) { storage = .int(Int64(value)) }
    /// An exact non-negative integer (the full UInt64 range).
    public init(_ value: UInt64) { storage = value <= UInt64(Int64.max) ? .int(Int64(value)) : .uint(value) }
    /// A non-integer number. A non-finite value serializes as `null` (JSON has no NaN or infinity).
    public init(_ value: Double) { storage = .double(value) }
    /// A Float32 number, serialized with the shortest text that reads back as the same Float
    /// (`0.1`, not `0.10000000149011612`). Non-finite values serialize as `null`.
    public init(_ value: Float) { storage = .float(value) }
    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }

    /// True when the number is an exact integer written without fraction or exponent (`12`, not
    /// `12.0` or `1.2e1`) and within the range of Int64 or UInt64.
    public var isInteger: Bool {
        switch storage {
        case .int, .uint: return true
        case .double, .float: return false
        }
    }

    /// The nearest Double.
    public var doubleValue: Double {
        switch storage {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .double(let v): return v
        case .float(let v): return Double(v)
        }
    }

    /// The value as Int64 when it is mathematically an integer in range: always exact for integer
    /// literals; for other numbers only when the Double is integral (`12.0` and `1.2e1` give 12).
    public var int64Value: Int64? {
        switch storage {
        case .int(let v): return v
        case .uint: return nil
        case .double(let v): return Int64(exactly: v)
        case .float(let v): return Int64(exactly: v)
        }
    }

    /// The value as UInt64 when it is a non-negative integer in range (as `int64Value`).
    public var uint64Value: UInt64? {
        switch storage {
        case .int(let v): return UInt64(exactly: v)
        case .uint(let v): return v
        case .double(let v): return UInt64(exactly: v)
        case .float(let v): return UInt64(exactly: v)
        }
    }

    /// The value as Int when it is an integer that fits (as `int64Value`).
    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    /// Equal when they denote the same number: `1`, `1.0` and `1e0` are equal; `0` and `-0.0` too.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.widened, rhs.widened) {
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
        case (.uint(let a), .double(let b)), (.double(let b), .uint(let a)): return UInt64(exactly: b) == a
        case (.int, .uint), (.uint, .int): return false
        case (.float, _), (_, .float): return false  // not reached: widened
        }
    }

    /// Storage with Float widened to Double (exactly), for comparisons.
    private var widened: Storage {
        if case .float(let f) = storage { return .double(Double(f)) }
        return storage
    }

    /// The JSON text of the number (`null` for NaN or infinity).
    public var description: String {
        switch storage {
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .double(let v):
            // Swift prints the shortest representation that round-trips: "0.1", "1e-07", "1e+20",
            // "-0.0"; all valid JSON number syntax.
            return v.isFinite ? v.description : "null"
        case .float(let v):
            return v.isFinite ? v.description : "null"
        }
    }
}

// MARK: - Objects

/// A JSON object: members in insertion (document) order, unique keys, lookup by key.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)] = []
    /// Key → position in `members`; built only for larger objects (small ones are scanned).
    private var positions: [UTF8Key: Int]? = nil
    private static let indexThreshold = 8

    /// An empty object.
    public init() {}

    /// An object with `members` in the given order. Keys must be unique.
    public init<S: Sequence>(uniqueKeysWithValues members: S) where S.Element == (String, JSONValue) {
        for (key, value) in members {
            precondition(!contains(key), "duplicate key \(key) in JSONObject")
            appendUnchecked(key: key, value: value)
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueKeysWithValues: elements)
    }

    /// The number of members.
    public var count: Int { members.count }
    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }
    /// The keys in order.
    public var keys: [String] { members.map(\.key) }
    /// The values in key order.
    public var values: [JSONValue] { members.map(\.value) }

    /// True when `key` is a member (compared by UTF-8 bytes).
    public func contains(_ key: String) -> Bool { position(of: key) != nil }

    /// The value for `key`. Setting a new key appends it; setting an existing key replaces its value in
    /// place; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let p = position(of: key) {
                if let newValue {
                    members[p].value = newValue
                } else {
                    members.remove(at: p)
                    rebuildPositions()
                }
            } else if let newValue {
                appendUnchecked(key: key, value: newValue)
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// Equal when they have the same keys with equal values, in any order (JSON objects are unordered).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members where rhs[key] != value { return false }
        return true
    }

    /// Appends a member whose key the caller knows is new.
    mutating func appendUnchecked(key: String, value: JSONValue) {
        members.append((key, value))
        if positions != nil {
            positions![UTF8Key(key)] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildPositions()
        }
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[UTF8Key(key)] }
        return members.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
    }

    private mutating func rebuildPositions() {
        guard members.count > Self.indexThreshold else {
            positions = nil
            return
        }
        var map = [UTF8Key: Int](minimumCapacity: members.count)
        for (i, member) in members.enumerated() { map[UTF8Key(member.key)] = i }
        positions = map
    }
}

/// A string as a dictionary key that compares and hashes by its UTF-8 bytes, so canonically
/// equivalent but differently encoded strings stay distinct (Swift's `String ==` would merge them).
struct UTF8Key: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        var s = string
        s.makeContiguousUTF8()
        self.string = s
    }

    static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in string.utf8 { hasher.combine(byte) }  // not reached: init made it contiguous
        }
        hasher.combine(0xFF as UInt8)  // terminator; never a UTF-8 byte
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(uniqueKeysWithValues: elements))
    }
}

// MARK: - Serialization

extension JSONValue {
    /// Compact JSON text (no whitespace), members in order, strings escaped minimally.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// Compact JSON as UTF-8 bytes.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.description.utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = hexDigits
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
