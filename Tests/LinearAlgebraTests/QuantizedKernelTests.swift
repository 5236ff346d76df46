// The quantized products against the loop they document: y = x · Wᵀ with W dequantized, summed in
// Double. Both paths (integer dots for few rows, dequantized tiles through sgemm for many), every
// block type, row counts on both sides of the limit and of the kernels' row steps, and column
// counts that do not split evenly over threads or tiles.
import FixtureSupport
import LinearAlgebra
import Testing

/// y[i][j] = Σ_p x[i][p]·W[j][p] in Double, with per-element bounds:
/// - `rounding`: Σ_p |x[i][p]|·magnitude[j][p], the size of the terms the kernels round in float;
/// - `activation`: Σ_blocks (d_x/2)·Σ_p∈block |W[j][p]|, the most the 8-bit rounding of x can move
///   y (d_x = max|x| / 127 over each block of x, 32 elements or 256 for the K types).
private func reference(_ x: Matrix, _ w: QuantizedMatrix) -> (y: [[Double]], rounding: [[Double]], activation: [[Double]]) {
    let decoded = referenceDecode(w)
    let block = w.type.blockSize
    var y = [[Double]](repeating: [Double](repeating: 0, count: w.rows), count: x.rows)
    var rounding = y, activation = y
    for i in 0..<x.rows {
        let steps = stride(from: 0, to: x.cols, by: block).map { b in
            Double((b..<(b + block)).map { abs(x[i, $0]) }.max()!) / 127 / 2
        }
        for j in 0..<w.rows {
            var s = 0.0, r = 0.0, a = 0.0
            for p in 0..<x.cols {
                let e = decoded[j][p]
                s += Double(x[i, p]) * Double(e.value)
                r += Double(abs(x[i, p])) * Double(e.magnitude)
                a += steps[p / block] * Double(abs(e.value))
            }
            (y[i][j], rounding[i][j], activation[i][j]) = (s, r, a)
        }
    }
    return (y, rounding, activation)
}

/// The float rounding the kernels may add, relative to `rounding`: sgemm sums k products, each
/// rounded once (Higham's γ_k ≈ k·2⁻²⁴); the integer path sums one float term per block, each of a
/// few roundings, so k/blockSize + 8 roundings; doubled for the rounding of x·W in either.
private func roundingFactor(k: Int, blockSize: Int, integerPath: Bool) -> Double {
    2 * Double(integerPath ? k / blockSize + 8 : k) * 0x1p-24
}

private func checkProduct(_ type: QuantizationType, m: Int, n: Int, k: Int, seed: UInt64, path: QuantizedProductPath? = nil) throws {
    var blocks = SeededBlocks(state: seed)
    var floats = SeededMatrices(state: seed)
    let w = try blocks.matrix(type, rows: n, cols: k)
    var x = floats.matrix(m, k)
    if m > 1 { for p in 0..<k { x[1, p] *= 1e4 } }     // a large row and
    if m > 2 { for p in 0..<k { x[2, p] *= 1e-4 } }    // a small one next to ordinary rows
    let integerPath = (path ?? (m <= QuantizedMatrix.integerProductRowLimit ? .integerDots : .dequantizedTiles)) == .integerDots
    let (expected, rounding, activation) = reference(x, w)
    var y = Matrix(rows: m, cols: n)
    x.storage.withUnsafeBufferPointer { xs in
        y.storage.withUnsafeMutableBufferPointer { ys in
            w.multiply(xs.baseAddress!, rows: m, ldx: k, into: ys.baseAddress!, ldy: n, path: path)
        }
    }
    #expect(y.shape == [m, n])
    let factor = roundingFactor(k: k, blockSize: type.blockSize, integerPath: integerPath)
    var worst = 0.0, violations = 0
    for i in 0..<m {
        for j in 0..<n {
            let bound = (integerPath ? activation[i][j] * (1 + factor) : 0) + factor * (rounding[i][j] + activation[i][j])
            let error = abs(Double(y[i, j]) - expected[i][j])
            if !(error <= bound) { violations += 1 }
            if bound > 0 { worst = max(worst, error / bound) }
        }
    }
    #expect(violations == 0, "\(type) \(integerPath ? "integer" : "tiles") m=\(m) n=\(n) k=\(k): \(violations) outputs outside the bound (worst \(worst) of it)")
}

@Test(arguments: QuantizationType.allCases)
func integerPathMatchesTheLoopWithinTheActivationRounding(_ type: QuantizationType) throws {
    // 1 … 4 rows at once in the AVX2 kernel, then the next four: 5, 16 and 17 cross those steps.
    for m in [1, 2, 3, 4, 5, 16, 17] { try checkProduct(type, m: m, n: 67, k: 512, seed: UInt64(m), path: .integerDots) }
}

@Test(arguments: QuantizationType.allCases)
func integerPathSplitsColumnsOverThreads(_ type: QuantizationType) throws {
    // 1000 × 768 clears the threading threshold; 1000 rows do not split into equal parts of 16.
    try checkProduct(type, m: 3, n: 1000, k: 256 * 3, seed: 41, path: .integerDots)
}

@Test(arguments: QuantizationType.allCases)
func dequantizedTilePathMatchesTheLoop(_ type: QuantizationType) throws {
    // Through the small-row kernel (m ≤ 16) and sgemm (17, 64); 1100 rows are three tiles, the last partial.
    for m in [1, 3, 16, 17, 64] { try checkProduct(type, m: m, n: 1100, k: 256, seed: UInt64(m), path: .dequantizedTiles) }
}

@Test(arguments: QuantizationType.allCases)
func defaultPathMatchesTheLoopOnBothSidesOfTheLimit(_ type: QuantizationType) throws {
    let limit = QuantizedMatrix.integerProductRowLimit
    for m in [limit, limit + 1] { try checkProduct(type, m: m, n: 301, k: 512, seed: UInt64(m)) }
}

@Test func productWritesOnlyItsOwnColumnsWithStrides() throws {
    var blocks = SeededBlocks(state: 3)
    let w = try blocks.matrix(.q4_1, rows: 40, cols: 64)
    var floats = SeededMatrices(state: 3)
    for m in [2, 20] {   // one per path
        let x = floats.matrix(m, 80)   // rows of 80, the first 64 used
        var y = [Float](repeating: .nan, count: m * 50)
        x.storage.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                w.multiply(xs.baseAddress!, rows: m, ldx: 80, into: ys.baseAddress! + 5, ldy: 50)
            }
        }
        let packed = Matrix(rows: m, cols: 64, storage: (0..<m).flatMap { x.row($0)[0..<64] })
        let expected = w.timesTransposed(packed)
        for i in 0..<m {
            #expect(y[(i * 50)..<(i * 50 + 5)].allSatisfy(\.isNaN) && y[(i * 50 + 45)..<(i * 50 + 50)].allSatisfy(\.isNaN))
            #expect(Array(y[(i * 50 + 5)..<(i * 50 + 45)]) == expected.row(i))
        }
    }
}

@Test func theTeamStillRunsTheSmallRowSGEMM() {
    // eckart_sgemm_nt_small_parallel now runs as one job of the shared team: unchanged results.
    var seeded = SeededMatrices(state: 23)
    let x = seeded.matrix(5, 600), w = seeded.matrix(1003, 600)
    let expected = referenceGEMM(x, transposeA: false, w, transposeB: true, alpha: 1, beta: 0, c: Matrix(rows: 5, cols: 1003))
    #expect(x.timesTransposed(w).maxAbsDifference(expected) < 1e-4)
}
