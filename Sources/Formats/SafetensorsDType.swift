// The element types of the safetensors format and their widths.
//
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (0.8.0-dev, commit 24b0b28): `enum Dtype`
// (declared in increasing alignment order, which the writer sorts by) and `Dtype::bitsize()`.

/// A safetensors element type. The raw value is the string written in the header's `dtype` field.
///
/// Cases are declared in the reference's order, which is increasing alignment; `Comparable` follows it.
public enum SafetensorsDType: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Boolean, one byte per element.
    case bool = "BOOL"
    /// MXFP4 (E2M1), 4 bits per element.
    case f4 = "F4"
    /// MXFP6 E2M3, 6 bits per element.
    case f6E2M3 = "F6_E2M3"
    /// MXFP6 E3M2, 6 bits per element.
    case f6E3M2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    /// FP8 E5M2.
    case f8E5M2 = "F8_E5M2"
    /// FP8 E4M3 (torch.float8_e4m3fn).
    case f8E4M3 = "F8_E4M3"
    /// FP8 E8M0 (MX scale factors).
    case f8E8M0 = "F8_E8M0"
    /// FP8 E4M3, finite with no negative zero (torch.float8_e4m3fnuz).
    case f8E4M3FNUZ = "F8_E4M3FNUZ"
    /// FP8 E5M2, finite with no negative zero (torch.float8_e5m2fnuz).
    case f8E5M2FNUZ = "F8_E5M2FNUZ"
    case i16 = "I16"
    case u16 = "U16"
    /// IEEE 754 binary16.
    case f16 = "F16"
    /// bfloat16.
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    /// IEEE 754 binary32.
    case f32 = "F32"
    /// Complex number of two F32 parts.
    case c64 = "C64"
    /// IEEE 754 binary64.
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// The size of one element in bits (the reference's `bitsize()`).
    public var bitSize: Int {
        switch self {
        case .f4: return 4
        case .f6E2M3, .f6E3M2: return 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .i64, .u64, .f64, .c64: return 64
        }
    }

    /// True for real floating-point formats (F4 through F64; not C64). `SafetensorsFile.floats(_:)`
    /// converts the ones in `SafetensorsDType.convertibleToFloat`.
    public var isFloatingPoint: Bool {
        switch self {
        case .f4, .f6E2M3, .f6E3M2, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .f16, .bf16, .f32, .f64:
            return true
        case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64, .c64:
            return false
        }
    }

    /// True for the types `SafetensorsFile.integers(_:)` reads: BOOL and the signed and unsigned integers.
    public var isInteger: Bool {
        switch self {
        case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: return true
        default: return false
        }
    }

    /// The floating-point types `SafetensorsFile.floats(_:)` converts to Float32.
    public static let convertibleToFloat: [SafetensorsDType] = [.f16, .bf16, .f32, .f64]

    /// Position in the reference's declaration (alignment) order.
    var alignmentRank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: SafetensorsDType, rhs: SafetensorsDType) -> Bool {
        lhs.alignmentRank < rhs.alignmentRank
    }

    public var description: String { rawValue }
}
