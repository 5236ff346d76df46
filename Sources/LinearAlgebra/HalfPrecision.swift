// IEEE 754 binary16 and bfloat16 to Float32, by bit manipulation (exact, no rounding involved).

/// Converts an IEEE 754 half-precision bit pattern to `Float`. Exact for every input,
/// including subnormals, infinities and NaN.
@inlinable
public func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    var mantissa = UInt32(h & 0x03FF)
    if exponent == 0x1F {
        // Inf or NaN: keep the payload.
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {
        if mantissa == 0 { return Float(bitPattern: sign) }
        // Subnormal half: normalise into a Float32 normal.
        var e: UInt32 = 127 - 15 + 1
        while mantissa & 0x0400 == 0 {
            mantissa <<= 1
            e -= 1
        }
        mantissa &= 0x03FF
        return Float(bitPattern: sign | (e << 23) | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
}

/// Converts a bfloat16 bit pattern (the top half of a Float32) to `Float`. Exact.
@inlinable
public func floatFromBFloat16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}
