import LinearAlgebra
import Testing

@Test(arguments: [
    (UInt16(0x0000), Float(0)), (0x8000, -0.0), (0x3C00, 1), (0xC000, -2), (0x7BFF, 65504),
    (0x0001, 5.960464477539063e-08), (0x03FF, 6.097555160522461e-05), (0x0400, 6.103515625e-05),
    (0x3555, 0.333251953125), (0x7C00, .infinity), (0xFC00, -.infinity),
])
func halfBitsConvertExactly(bits: UInt16, expected: Float) {
    let value = floatFromHalfBits(bits)
    #expect(value == expected)
    #expect(value.sign == expected.sign)
}

@Test func halfNaNStaysNaN() {
    #expect(floatFromHalfBits(0x7E00).isNaN)
    #expect(floatFromHalfBits(0x7C01).isNaN)
}

@Test func everyHalfRoundTripsThroughFloat16() {
    // Float16 is native on x86_64 Linux: use it as an independent reference for all 65536 patterns.
    for bits in 0...UInt16.max {
        let reference = Float(Float16(bitPattern: bits))
        let value = floatFromHalfBits(bits)
        #expect(value.bitPattern == reference.bitPattern || (value.isNaN && reference.isNaN), "bits \(bits)")
    }
}

@Test func bfloat16IsTheTopHalfOfAFloat() {
    #expect(floatFromBFloat16Bits(0x3F80) == 1)
    #expect(floatFromBFloat16Bits(0xC040) == -3)
    #expect(floatFromBFloat16Bits(0x7F80) == .infinity)
    #expect(floatFromBFloat16Bits(0x7FC0).isNaN)
    #expect(floatFromBFloat16Bits(0x0001) == Float(bitPattern: 0x0001_0000))
}
