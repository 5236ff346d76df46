// Converting a tensor's little-endian bytes to Float32 or Int64 arrays.
//
// Reference: the safetensors format (huggingface/safetensors README, "Format": little-endian, row-major)
// and IEEE 754 binary16 / bfloat16 / binary32 / binary64. F16 and BF16 widen exactly through
// `floatFromHalfBits` / `floatFromBFloat16Bits` (LinearAlgebra/HalfPrecision.swift); F64 narrows with
// round-to-nearest-even. Reads are unaligned loads (the data section need not be aligned in memory),
// in one tight loop per dtype writing straight into the result's uninitialised storage.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LinearAlgebra

enum SafetensorsConversion {
    /// `count` elements of `dtype` (one of `SafetensorsDType.convertibleToFloat`) from `bytes`, which
    /// holds exactly `count` elements.
    static func floats(_ bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Float] {
        precondition(bytes.count == count * dtype.bitSize / 8, "byte count does not match element count")
        guard count > 0, let src = bytes.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            let dst = out.baseAddress!
            switch dtype {
            case .f32:
                #if _endian(little)
                memcpy(dst, src, count * MemoryLayout<Float>.size)
                #else
                for i in 0..<count {
                    dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
                #endif
            case .f16:
                for i in 0..<count {
                    dst[i] = floatFromHalfBits(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    dst[i] = floatFromBFloat16Bits(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .f64:
                for i in 0..<count {
                    dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            default:
                preconditionFailure("\(dtype) does not convert to Float")
            }
            initialized = count
        }
    }

    /// Elements of an integer or BOOL tensor as Int64 (BOOL: any non-zero byte is 1). Returns the index
    /// and value of the first U64 element above Int64.max instead, if any.
    static func integers(_ bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int)
        -> Result<[Int64], OutOfRange>
    {
        precondition(bytes.count == count * dtype.bitSize / 8, "byte count does not match element count")
        guard count > 0, let src = bytes.baseAddress else { return .success([]) }
        var outOfRange: OutOfRange? = nil
        let values = [Int64](unsafeUninitializedCapacity: count) { out, initialized in
            let dst = out.baseAddress!
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                T(littleEndian: src.loadUnaligned(fromByteOffset: MemoryLayout<T>.size * i, as: T.self))
            }
            switch dtype {
            case .bool: for i in 0..<count { dst[i] = load(UInt8.self, i) == 0 ? 0 : 1 }
            case .u8: for i in 0..<count { dst[i] = Int64(load(UInt8.self, i)) }
            case .i8: for i in 0..<count { dst[i] = Int64(load(Int8.self, i)) }
            case .u16: for i in 0..<count { dst[i] = Int64(load(UInt16.self, i)) }
            case .i16: for i in 0..<count { dst[i] = Int64(load(Int16.self, i)) }
            case .u32: for i in 0..<count { dst[i] = Int64(load(UInt32.self, i)) }
            case .i32: for i in 0..<count { dst[i] = Int64(load(Int32.self, i)) }
            case .i64: for i in 0..<count { dst[i] = load(Int64.self, i) }
            case .u64:
                for i in 0..<count {
                    let v = load(UInt64.self, i)
                    if v > UInt64(Int64.max), outOfRange == nil { outOfRange = OutOfRange(index: i, value: v) }
                    dst[i] = Int64(truncatingIfNeeded: v)
                }
            default:
                preconditionFailure("\(dtype) is not an integer dtype")
            }
            initialized = count
        }
        if let outOfRange { return .failure(outOfRange) }
        return .success(values)
    }

    struct OutOfRange: Error {
        let index: Int
        let value: UInt64
    }
}
