// The BLAS path against the plain loop it documents, with a fixed seed (candle's habit).
import FixtureSupport
import LinearAlgebra
import Testing

/// The reference: `C = alpha · op(A) · op(B) + beta · C`, one multiply-add at a time, in Double.
func referenceGEMM(_ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool, alpha: Float, beta: Float, c: Matrix) -> Matrix {
    let m = transposeA ? a.cols : a.rows, k = transposeA ? a.rows : a.cols
    let n = transposeB ? b.rows : b.cols
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p, i] : a[i, p]
                let y = transposeB ? b[j, p] : b[p, j]
                s += Double(x) * Double(y)
            }
            out[i, j] = alpha * Float(s) + beta * c[i, j]
        }
    }
    return out
}

@Test func timesTransposedMatchesLoop() {
    var seeded = SeededMatrices(state: 7)
    let x = seeded.matrix(13, 37), w = seeded.matrix(29, 37)
    let expected = referenceGEMM(x, transposeA: false, w, transposeB: true, alpha: 1, beta: 0, c: Matrix(rows: 13, cols: 29))
    #expect(x.timesTransposed(w).maxAbsDifference(expected) < 1e-5)
}

@Test func accumulateTimesHonoursAlphaAndBeta() {
    var seeded = SeededMatrices(state: 11)
    let a = seeded.matrix(17, 5), b = seeded.matrix(5, 23)
    var c = seeded.matrix(17, 23)
    let expected = referenceGEMM(a, transposeA: false, b, transposeB: false, alpha: 0.5, beta: 1, c: c)
    a.accumulateTimes(b, into: &c, alpha: 0.5, beta: 1)
    #expect(c.maxAbsDifference(expected) < 1e-5)
}

@Test func stridedGEMMAddressesOneHead() {
    // Two "heads" of width 3 side by side in a 4×6 matrix; multiply only the second by a 3×2.
    var seeded = SeededMatrices(state: 3)
    let wide = seeded.matrix(4, 6), right = seeded.matrix(3, 2)
    var out = [Float](repeating: 0, count: 8)
    wide.storage.withUnsafeBufferPointer { a in
        right.storage.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { c in
                gemm(.none, .none, m: 4, n: 2, k: 3, a: a.baseAddress! + 3, lda: 6, b: b.baseAddress!, ldb: 2,
                     c: c.baseAddress!, ldc: 2)
            }
        }
    }
    let head = Matrix(rows: 4, cols: 3, storage: (0..<4).flatMap { i in (3..<6).map { wide[i, $0] } })
    let expected = referenceGEMM(head, transposeA: false, right, transposeB: false, alpha: 1, beta: 0, c: Matrix(rows: 4, cols: 2))
    #expect(Matrix(rows: 4, cols: 2, storage: out).maxAbsDifference(expected) < 1e-6)
}

@Test func transposeAndRowOperations() {
    var m = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6])
    #expect(m.transposed() == Matrix(rows: 3, cols: 2, storage: [1, 4, 2, 5, 3, 6]))
    m.addRowVector([1, 0, -1])
    #expect(m.storage == [2, 2, 2, 5, 5, 5])
    m.scaleColumns(by: [1, 2, 3])
    #expect(m.storage == [2, 4, 6, 5, 10, 15])
    m.scaleRows(by: [0.5, 0.2])
    #expect(m.storage == [1, 2, 3, 1, 2, 3])
    #expect(Matrix(rows: 1, cols: 2, storage: [3, 4]).rowNorms() == [5])
}

@Test func transposedTimesMatchesLoop() {
    var seeded = SeededMatrices(state: 9)
    let a = seeded.matrix(37, 13), b = seeded.matrix(37, 21)
    let expected = referenceGEMM(a, transposeA: true, b, transposeB: false, alpha: 1, beta: 0, c: Matrix(rows: 13, cols: 21))
    #expect(a.transposedTimes(b).maxAbsDifference(expected) < 1e-5)
    #expect(Matrix(rows: 0, cols: 4).transposedTimes(Matrix(rows: 0, cols: 3)).storage == [Float](repeating: 0, count: 12))
}

@Test func smallRowKernelMatchesItsLoop() {
    // Row counts up to the limit, column and depth tails, row strides wider than the data, beta 0
    // and not, and a product large enough to be split over threads.
    var seeded = SeededMatrices(state: 23)
    for (m, n, k) in [(1, 1, 16), (2, 3, 17), (3, 7, 31), (5, 33, 64), (16, 4, 260), (7, 300, 260), (smallRowLimit, 129, 40)] {
        let (lda, ldb, ldc) = (k + 3, k + 5, n + 2)
        let a = seeded.matrix(m, lda), b = seeded.matrix(n, ldb), c0 = seeded.matrix(m, ldc)
        for beta: Float in [0, 0.75] {
            var c = c0
            a.storage.withUnsafeBufferPointer { ap in
                b.storage.withUnsafeBufferPointer { bp in
                    c.storage.withUnsafeMutableBufferPointer { cp in
                        gemm(.none, .transpose, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                             beta: beta, c: cp.baseAddress!, ldc: ldc)
                    }
                }
            }
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    var s = 0.0
                    for p in 0..<k { s += Double(a[i, p]) * Double(b[j % n, p]) }
                    let expected = j < n ? Float(0.5 * s) + beta * c0[i, j] : c0[i, j]   // columns past n untouched
                    worst = max(worst, abs(c[i, j] - expected))
                }
            }
            #expect(worst < 1e-4, "m \(m) n \(n) k \(k) beta \(beta) (\(BLAS.kernelPath)): \(worst)")
        }
    }
}
