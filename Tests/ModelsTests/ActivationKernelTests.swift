// The vectorized activations (eckart_silu_gate, eckart_gelu) against the loops they document,
// computed in Double, across each function's range and the vector kernels' lane tails.
import FixtureSupport
import Foundation
import LinearAlgebra
@testable import Models
import Testing

/// Every lane and the tail, values across the activations' range: deep negative (→ 0), the bend,
/// large positive (→ x), and the clamp edges of the vectorized exponential.
private let inputs: [Float] = stride(from: -120, through: 120, by: 0.37).map { Float($0) }
    + [-88.5, -87.3, -20, -9.5, -1e-3, 0, 1e-3, 0.5, 9.5, 87.3, 88.5, 1e-30, -1e-30]

@Test func siluGateMatchesItsLoop() {
    let values = inputs, count = inputs.count
    var seeded = SeededMatrices(state: 59)
    let up = seeded.matrix(1, count)
    var gate = Matrix(rows: 1, cols: count, storage: values)
    Activation.silu.gate(&gate, by: up)
    var worst: Double = 0
    for i in 0..<count {
        let x = Double(values[i]), expected = x / (1 + exp(-x)) * Double(up[0, i])
        // Relative to the result's size, with an absolute floor where silu is ~0.
        worst = max(worst, abs(Double(gate[0, i]) - expected) / max(abs(expected), 1e-30))
    }
    #expect(worst < 1e-6, "\(BLAS.kernelPath): \(worst)")
}

@Test func geluMatchesItsLoop() {
    var x = Matrix(rows: 1, cols: inputs.count, storage: inputs)
    Activation.gelu.apply(&x)
    let expected = inputs.map { 0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot())) }
    // Against x's size: float's 1 + erf(x/√2) cancels on the negative tail, as torch's fp32 GELU
    // does, so the loop itself is accurate there only to ~1e-7·|x|.
    let worst = zip(zip(x.storage, expected), inputs).map { pair, input in abs(Double(pair.0) - pair.1) / max(1, abs(Double(input))) }.max()!
    #expect(worst < 1e-6, "\(BLAS.kernelPath): \(worst)")
}
