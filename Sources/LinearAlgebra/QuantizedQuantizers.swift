// Float32 weights to Q8_0, Q4_0 or Q4_1 blocks by round-to-nearest, as llama.cpp's reference
// quantizers (quantize_row_*_ref in ggml-quants.c) do: what `eckart serve --quantize` stores.

extension QuantizedMatrix {
    /// The block types `quantize(_:as:)` writes.
    public static let quantizable: [QuantizationType] = [.q8_0, .q4_0, .q4_1]

    /// `m` in `type`'s blocks, each block scaled on its own:
    ///
    /// - Q8_0: d = max|x| / 127, q = round(x / d) — |x − d·q| ≤ d/2.
    /// - Q4_0: d = −(the element of largest magnitude, signed) / 8, q = min(15, round(x / d) + 8):
    ///   the extreme element lands exactly on q = 0, the others within d/2 of their value.
    /// - Q4_1: d = (max − min) / 15, m = min, q = round((x − m) / d) — |x − (d·q + m)| ≤ d/2.
    ///
    /// d and m are stored as fp16, and each bound holds for the stored (rounded) d and m.
    public static func quantize(_ m: Matrix, as type: QuantizationType) throws(QuantizationError) -> QuantizedMatrix {
        guard quantizable.contains(type) else { throw .noQuantizer(type) }
        guard m.cols % type.blockSize == 0 else {
            throw .columnsNotMultipleOfBlock(type: type, cols: m.cols, blockSize: type.blockSize)
        }
        let blocks = m.rows * m.cols / 32
        let bytes = QuantizedBytes(count: blocks * type.bytesPerBlock) { out in
            m.storage.withUnsafeBufferPointer { x in
                for b in 0..<blocks {
                    let block = UnsafeBufferPointer(rebasing: x[(32 * b)..<(32 * b + 32)])
                    let target = out + b * type.bytesPerBlock
                    switch type {
                    case .q8_0: quantizeQ8_0(block, into: target)
                    case .q4_0: quantizeQ4_0(block, into: target)
                    default: quantizeQ4_1(block, into: target)
                    }
                }
            }
        }
        return QuantizedMatrix(type: type, rows: m.rows, cols: m.cols, checked: bytes)
    }
}

/// The fp16 bits of `x`, rounded to nearest, little-endian at `p`; returns the rounded value, which
/// is what dequantizing will multiply by.
private func storeHalf(_ x: Float, at p: UnsafeMutableRawPointer) -> Float {
    let half = Float16(x)
    p.storeBytes(of: half.bitPattern.littleEndian, as: UInt16.self)
    return Float(half)
}

/// q = round(x / d), rounding half away from zero as C's roundf.
private func nearest(_ x: Float) -> Float { x.rounded(.toNearestOrAwayFromZero) }

private func quantizeQ8_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
    let amax = x.reduce(0) { max($0, abs($1)) }
    let d = storeHalf(amax / 127, at: out)
    let inverse: Float = d != 0 ? 1 / d : 0
    for l in 0..<32 {
        let q = max(-127, min(127, nearest(x[l] * inverse)))
        out.storeBytes(of: Int8(q), toByteOffset: 2 + l, as: Int8.self)
    }
}

private func quantizeQ4_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
    // The signed element of largest magnitude maps to −8, so the block spends its asymmetric level there.
    var extreme: Float = 0
    for v in x where abs(v) > abs(extreme) { extreme = v }
    let d = storeHalf(extreme / -8, at: out)
    let inverse: Float = d != 0 ? 1 / d : 0
    for l in 0..<16 {
        let low = UInt8(max(0, min(15, nearest(x[l] * inverse) + 8)))
        let high = UInt8(max(0, min(15, nearest(x[l + 16] * inverse) + 8)))
        out.storeBytes(of: low | high << 4, toByteOffset: 2 + l, as: UInt8.self)
    }
}

private func quantizeQ4_1(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
    let lowest = x.min()!, highest = x.max()!
    let d = storeHalf((highest - lowest) / 15, at: out)
    let m = storeHalf(lowest, at: out + 2)
    let inverse: Float = d != 0 ? 1 / d : 0
    for l in 0..<16 {
        let low = UInt8(max(0, min(15, nearest((x[l] - m) * inverse))))
        let high = UInt8(max(0, min(15, nearest((x[l + 16] - m) * inverse))))
        out.storeBytes(of: low | high << 4, toByteOffset: 4 + l, as: UInt8.self)
    }
}
