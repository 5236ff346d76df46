// Element conversions of the safetensors reader: F16 / BF16 / F64 to Float32 and the integer types to
// Int64, exact at the special values. Reference: IEEE 754-2008 binary16 / binary32 / binary64 and
// bfloat16 (the top 16 bits of a binary32).
import Formats
import Foundation
import Testing

/// A one-tensor file holding `count` elements of `dtype` with the given raw little-endian bytes.
func singleTensorFile(dtype: SafetensorsDType, count: Int, bytes: [UInt8]) throws -> SafetensorsFile {
    try SafetensorsFile(bytes: SafetensorsWriter.serialize([.init(name: "x", dtype: dtype, shape: [count], bytes: bytes)]))
}

func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

@Suite struct SafetensorsConversionTests {
    @Test func halfPrecisionSpecialValuesAreExact() throws {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0.0),
            (0x8000, -0.0),
            (0x0001, 0x1p-24),                        // smallest subnormal
            (0x8001, -0x1p-24),
            (0x03FF, 1023 * 0x1p-24),                 // largest subnormal
            (0x0400, 0x1p-14),                        // smallest normal
            (0x3C00, 1.0),
            (0x3C01, 1.0 + 0x1p-10),
            (0xC000, -2.0),
            (0x3555, 0x1.554p-2),                     // nearest half to 1/3
            (0x7BFF, 65504.0),                        // largest finite
            (0xFBFF, -65504.0),
            (0x7C00, .infinity),
            (0xFC00, -.infinity),
        ]
        let file = try singleTensorFile(dtype: .f16, count: cases.count, bytes: littleEndianBytes(cases.map(\.0)))
        let values = try file.floats("x")
        for (value, (bits, expected)) in zip(values, cases) {
            #expect(value.bitPattern == expected.bitPattern, "F16 0x\(String(bits, radix: 16)) gave \(value), expected \(expected)")
        }
    }

    @Test func halfPrecisionNaNStaysNaNWithItsSign() throws {
        let file = try singleTensorFile(dtype: .f16, count: 3, bytes: littleEndianBytes([0x7E00, 0xFE00, 0x7C01] as [UInt16]))
        let values = try file.floats("x")
        #expect(values.allSatisfy { $0.isNaN })
        #expect(values[0].sign == .plus && values[1].sign == .minus)
    }

    @Test func everyHalfPrecisionValueMatchesFloat16() throws {
        let all = (0...UInt16.max).map { $0 }
        let values = try singleTensorFile(dtype: .f16, count: all.count, bytes: littleEndianBytes(all)).floats("x")
        for (bits, value) in zip(all, values) {
            let expected = Float(Float16(bitPattern: bits))
            if expected.isNaN {
                #expect(value.isNaN)
            } else if value.bitPattern != expected.bitPattern {
                Issue.record("F16 0x\(String(bits, radix: 16)): \(value) != \(expected)")
                return
            }
        }
    }

    @Test func bfloat16SpecialValuesAreExact() throws {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0.0),
            (0x8000, -0.0),
            (0x0001, Float(bitPattern: 0x0001_0000)),  // smallest subnormal, 2^-133
            (0x007F, Float(bitPattern: 0x007F_0000)),  // largest subnormal
            (0x0080, Float.leastNormalMagnitude),
            (0x3F80, 1.0),
            (0x4049, 3.140625),
            (0xC2F7, -123.5),
            (0x7F7F, Float(bitPattern: 0x7F7F_0000)),  // largest finite
            (0x7F80, .infinity),
            (0xFF80, -.infinity),
        ]
        let file = try singleTensorFile(dtype: .bf16, count: cases.count, bytes: littleEndianBytes(cases.map(\.0)))
        for (value, (bits, expected)) in zip(try file.floats("x"), cases) {
            #expect(value.bitPattern == expected.bitPattern, "BF16 0x\(String(bits, radix: 16)) gave \(value)")
        }
        let nans = try singleTensorFile(dtype: .bf16, count: 2, bytes: littleEndianBytes([0x7FC0, 0xFFC1] as [UInt16])).floats("x")
        #expect(nans[0].isNaN && nans[1].isNaN && nans[1].sign == .minus)
    }

    @Test func float32IsCopiedBitForBit() throws {
        let patterns: [UInt32] = [0, 0x8000_0000, 1, 0x007F_FFFF, 0x3F80_0000, 0x7F7F_FFFF, 0x7F80_0000, 0xFF80_0000, 0x7FC0_1234, 0xFFFF_FFFF]
        let values = try singleTensorFile(dtype: .f32, count: patterns.count, bytes: littleEndianBytes(patterns)).floats("x")
        #expect(values.map(\.bitPattern) == patterns)
    }

    @Test func float64RoundsToNearestFloat() throws {
        let doubles: [Double] = [0.1, -0.0, 1e300, -1e300, 1e-300, 0x1.000001p0, 0x1.0000018p0, .infinity, 65504.25]
        let values = try singleTensorFile(dtype: .f64, count: doubles.count, bytes: littleEndianBytes(doubles.map(\.bitPattern))).floats("x")
        #expect(values.map(\.bitPattern) == doubles.map { Float($0).bitPattern })
        #expect(values[1].sign == .minus && values[2] == .infinity && values[4] == 0)
        // Ties round to even: 1 + 2^-24 → 1, 1 + 3·2^-25 → 1 + 2^-23.
        #expect(values[5] == 1.0 && values[6] == 1.0 + 0x1p-23)
        let nan = try singleTensorFile(dtype: .f64, count: 1, bytes: littleEndianBytes([Double.nan.bitPattern])).floats("x")
        #expect(nan[0].isNaN)
    }

    @Test func integersWidenExactly() throws {
        func read(_ dtype: SafetensorsDType, _ bytes: [UInt8], count: Int) throws -> [Int64] {
            try singleTensorFile(dtype: dtype, count: count, bytes: bytes).integers("x")
        }
        #expect(try read(.i8, [0x80, 0xFF, 0x7F], count: 3) == [-128, -1, 127])
        #expect(try read(.u8, [0x00, 0xFF], count: 2) == [0, 255])
        #expect(try read(.i16, littleEndianBytes([Int16.min, -1, Int16.max]), count: 3) == [-32768, -1, 32767])
        #expect(try read(.u16, littleEndianBytes([UInt16.max]), count: 1) == [65535])
        #expect(try read(.i32, littleEndianBytes([Int32.min, Int32.max]), count: 2) == [Int64(Int32.min), Int64(Int32.max)])
        #expect(try read(.u32, littleEndianBytes([UInt32.max]), count: 1) == [Int64(UInt32.max)])
        #expect(try read(.i64, littleEndianBytes([Int64.min, Int64.max]), count: 2) == [.min, .max])
        #expect(try read(.u64, littleEndianBytes([UInt64(Int64.max)]), count: 1) == [.max])
        #expect(try read(.bool, [0, 1, 2, 0xFF], count: 4) == [0, 1, 1, 1])
        #expect(throws: SafetensorsError.integerOutOfRange(file: "<memory>", tensor: "x", index: 1, value: UInt64.max)) {
            try read(.u64, littleEndianBytes([1, UInt64.max]), count: 2)
        }
    }

    @Test func dtypeProperties() {
        #expect(SafetensorsDType.convertibleToFloat == [.f16, .bf16, .f32, .f64])
        #expect(SafetensorsDType.allCases.filter(\.isInteger).map(\.rawValue) == ["BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64"])
        #expect(!SafetensorsDType.c64.isFloatingPoint && !SafetensorsDType.c64.isInteger)
        #expect(SafetensorsDType.f4 < .u8 && SafetensorsDType.c64 < .f64 && SafetensorsDType.f64 < .u64)
    }
}
