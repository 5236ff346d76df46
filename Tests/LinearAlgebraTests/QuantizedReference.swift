// The test oracle for the quantized kernels: each GGUF block layout decoded by a slow scalar loop
// written from the layout description (llama.cpp's ggml-common.h), and random blocks whose scales
// include the extremes (zero, fp16 subnormals, ±65504, negative) and whose quants include all-lowest
// and all-highest runs.
import LinearAlgebra

/// A seeded source of bytes and scales (64-bit LCG, as SeededMatrices).
struct SeededBlocks {
    var state: UInt64

    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// A float in [−1, 1).
    mutating func unit() -> Float { Float(Int64(next() % 2000)) / 1000 - 1 }

    /// An fp16 scale: mostly ordinary sizes, and every ninth or so one of the extremes.
    mutating func scale() -> Float16 {
        let extremes: [Float16] = [0, -0.0, Float16(bitPattern: 1) /* 2⁻²⁴ */, 6.1e-5, 65504, -65504, -0.5, 1e-3]
        if next() % 3 == 0 { return extremes[Int(next() % UInt64(extremes.count))] }
        return Float16(unit() * 0.05)
    }

    /// A row of `blocks` random blocks of `type`; quants are random, all-zero bits or all-one bits.
    mutating func row(_ type: QuantizationType, blocks: Int) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<blocks {
            var block = (0..<type.bytesPerBlock).map { _ in byte() }
            let quantStyle = next() % 4   // 0: all lowest bits, 1: all highest, else random
            for (offset, count) in quantRanges(type) where quantStyle < 2 {
                for b in offset..<(offset + count) { block[b] = quantStyle == 0 ? 0x00 : 0xff }
            }
            for offset in halfOffsets(type) {
                let bits = scale().bitPattern
                block[offset] = UInt8(bits & 0xff)
                block[offset + 1] = UInt8(bits >> 8)
            }
            out += block
        }
        return out
    }

    /// A rows × cols matrix of random blocks.
    mutating func matrix(_ type: QuantizationType, rows: Int, cols: Int) throws -> QuantizedMatrix {
        let bytes = (0..<rows).flatMap { _ in row(type, blocks: cols / type.blockSize) }
        return try QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: bytes)
    }
}

/// Where a block's fp16 scales sit.
func halfOffsets(_ type: QuantizationType) -> [Int] {
    switch type {
    case .q8_0, .q4_0: [0]
    case .q4_1, .q4_K, .q5_K: [0, 2]
    case .q6_K: [208]
    }
}

/// Where a block's quant bytes sit (offset, count): the bits that are not scales.
func quantRanges(_ type: QuantizationType) -> [(Int, Int)] {
    switch type {
    case .q8_0: [(2, 32)]
    case .q4_0: [(2, 16)]
    case .q4_1: [(4, 16)]
    case .q4_K: [(16, 128)]
    case .q5_K: [(16, 160)]
    case .q6_K: [(0, 192)]
    }
}

private func half(_ b: ArraySlice<UInt8>, _ offset: Int) -> Float {
    let i = b.startIndex + offset
    return Float(Float16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8))
}

/// One decoded element: its value, and the magnitude of the terms that make it up as the kernels
/// compute them (|d·q| + |m| and the like), the scale their float rounding is relative to.
struct DecodedElement { var value: Float; var magnitude: Float }

/// Q4_K/Q5_K 6-bit scale and min of sub-block j, from the 12 packed bytes.
func scaleAndMinK4(_ j: Int, _ s: ArraySlice<UInt8>) -> (Int, Int) {
    let p = { (i: Int) in Int(s[s.startIndex + i]) }
    if j < 4 { return (p(j) & 63, p(j + 4) & 63) }
    return ((p(j + 4) & 0x0f) | ((p(j - 4) >> 6) << 4), (p(j + 4) >> 4) | ((p(j) >> 6) << 4))
}

/// One block decoded element by element, straight from the layout.
func referenceDecode(_ type: QuantizationType, block b: ArraySlice<UInt8>) -> [DecodedElement] {
    let byte = { (i: Int) in Int(b[b.startIndex + i]) }
    var out: [DecodedElement] = []
    switch type {
    case .q8_0:
        let d = half(b, 0)
        for l in 0..<32 { let q = Float(Int8(bitPattern: UInt8(byte(2 + l)))); out.append(.init(value: q * d, magnitude: abs(q * d))) }
    case .q4_0:
        let d = half(b, 0)
        for l in 0..<32 {
            let q = l < 16 ? byte(2 + l) & 0x0f : byte(2 + l - 16) >> 4
            out.append(.init(value: Float(q - 8) * d, magnitude: abs(d) * Float(q + 8)))
        }
    case .q4_1:
        let d = half(b, 0), m = half(b, 2)
        for l in 0..<32 {
            let q = Float(l < 16 ? byte(4 + l) & 0x0f : byte(4 + l - 16) >> 4)
            out.append(.init(value: q * d + m, magnitude: abs(q * d) + abs(m)))
        }
    case .q4_K, .q5_K:
        let d = half(b, 0), dmin = half(b, 2), five = type == .q5_K
        let qs = five ? 48 : 16
        for e in 0..<256 {
            let j = e / 32, l = e % 32
            let (scale, min) = scaleAndMinK4(j, b.dropFirst(4))
            let packed = byte(qs + 32 * (j / 2) + l)
            var q = j % 2 == 0 ? packed & 0x0f : packed >> 4
            if five { q += ((byte(16 + l) >> j) & 1) * 16 }
            let dj = d * Float(scale), mj = dmin * Float(min)
            out.append(.init(value: dj * Float(q) - mj, magnitude: abs(dj * Float(q)) + abs(mj)))
        }
    case .q6_K:
        let d = half(b, 208)
        for e in 0..<256 {
            let h = e / 128, r = e % 128
            let low = r < 64 ? byte(64 * h + r % 64) & 0x0f : byte(64 * h + r % 64) >> 4
            let high = (byte(128 + 32 * h + r % 32) >> (2 * (r / 32))) & 3
            let q = (low | high << 4) - 32
            let scale = Float(Int8(bitPattern: UInt8(byte(192 + e / 16))))
            out.append(.init(value: d * scale * Float(q), magnitude: abs(d * scale) * Float(q + 64)))
        }
    }
    return out
}

/// Every element of a quantized matrix, decoded by the reference: rows × cols.
func referenceDecode(_ w: QuantizedMatrix) -> [[DecodedElement]] {
    let bytes = w.byteArray[...]
    return (0..<w.rows).map { i in
        (0..<(w.cols / w.type.blockSize)).flatMap { b in
            let start = i * w.rowBytes + b * w.type.bytesPerBlock
            return referenceDecode(w.type, block: bytes[start..<(start + w.type.bytesPerBlock)])
        }
    }
}
