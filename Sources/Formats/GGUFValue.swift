// A GGUF metadata value: the thirteen value types of the format, widened to Swift's 64-bit types
// (the exact stored type is kept as `typeName` for messages).

public indirect enum GGUFValue: Sendable, Equatable {
    case unsigned(UInt64, typeName: String)
    case signed(Int64, typeName: String)
    case float(Double, typeName: String)
    case bool(Bool)
    case string(String)
    case array([GGUFValue], elementTypeName: String)

    public var typeName: String {
        switch self {
        case .unsigned(_, let t), .signed(_, let t), .float(_, let t): t
        case .bool: "bool"
        case .string: "string"
        case .array(_, let element): "array of \(element)"
        }
    }

    /// Any integer type as Int (nil if it does not fit, or is not an integer).
    public var int: Int? {
        switch self {
        case .unsigned(let v, _): Int(exactly: v)
        case .signed(let v, _): Int(exactly: v)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .float(let v, _): v
        case .unsigned(let v, _): Double(v)
        case .signed(let v, _): Double(v)
        default: nil
        }
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [GGUFValue]? { if case .array(let a, _) = self { a } else { nil } }
}
