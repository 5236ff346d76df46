// The integer-dot path computed exactly as its loop says, not merely within the rounding bound: the
// activations rounded as the kernel rounds them (d = max|x| / 127 per block, q = round(x / d)), then
// a plain float product with the dequantized weight. Only summation order may differ. A kernel that
// mishandles a block's minimum or scale by a little would pass the rounding-bound tests but not this.
import Foundation
import Testing
@testable import LinearAlgebra

/// x rounded to 8 bits per `block` elements and back, as eckart_quantize_activation_row does.
private func roundedActivations(_ x: [Float], block: Int) -> [Float] {
    stride(from: 0, to: x.count, by: block).flatMap { start -> [Float] in
        let part = x[start..<(start + block)]
        let d = part.map(abs).max()! / 127
        let inverse: Float = d != 0 ? 1 / d : 0
        return part.map { d * Float(Int8(($0 * inverse).rounded(.toNearestOrEven))) }
    }
}

@Test(arguments: QuantizationType.allCases)
func theIntegerPathIsTheProductOfTheRoundedActivations(type: QuantizationType) throws {
    var seeded = SeededBlocks(state: 7)
    let (n, k) = (48, 512)
    let w = try seeded.matrix(type, rows: n, cols: k)
    let dequantized = w.dequantized()
    // Activations with a few outliers, as a transformer's have.
    var x = (0..<(3 * k)).map { _ in seeded.unit() }
    for i in stride(from: 5, to: x.count, by: 97) { x[i] *= 40 }
    var y = [Float](repeating: 0, count: 3 * n)
    x.withUnsafeBufferPointer { xs in
        y.withUnsafeMutableBufferPointer { ys in
            w.multiply(xs.baseAddress!, rows: 3, ldx: k, into: ys.baseAddress!, ldy: n, path: .integerDots)
        }
    }
    let block = type.blockSize == 32 ? 32 : 256
    for i in 0..<3 {
        let rounded = roundedActivations(Array(x[(i * k)..<((i + 1) * k)]), block: block)
        for j in 0..<n {
            var exact = 0.0, magnitude = 0.0
            for p in 0..<k {
                let term = Double(dequantized[j, p]) * Double(rounded[p])
                exact += term
                magnitude += abs(term)
            }
            // Float rounding only: a few ulps of the magnitude per block sum.
            let bound = magnitude * Double(k / 32 + 8) * 0x1p-23
            #expect(abs(Double(y[i * n + j]) - exact) <= bound, "\(type) row \(i) col \(j): \(y[i * n + j]) vs \(exact) (bound \(bound))")
        }
    }
}
