// PanelMatrix: the panel layout holds the weight exactly, and its product kernel equals the loop it
// documents (ckernels.h, eckart_panels_nt) for every row-count tail of the micro-kernels, partial
// last panels, strided activations and outputs, and products split over threads.
import FixtureSupport
import LinearAlgebra
import Testing

@Test func panelLayoutKeepsEveryElement() {
    var seeded = SeededMatrices(state: 41)
    for (rows, cols) in [(1, 1), (15, 3), (16, 5), (17, 9), (40, 33)] {
        let w = seeded.matrix(rows, cols)
        let panels = PanelMatrix(w)
        #expect(panels.unpacked == w, "\(rows) × \(cols)")
        var row = [Float](repeating: 0, count: cols)
        row.withUnsafeMutableBufferPointer { panels.row(rows - 1, into: $0.baseAddress!) }
        #expect(row == Array(w.storage[((rows - 1) * cols)...]))
        #expect(panels.byteCount == (rows + 15) / 16 * 16 * cols * 4)
    }
}

@Test func panelProductMatchesItsLoop() {
    // Row counts through every micro-kernel height (6, 4 for 7 and 8, tails 1–5) and past the
    // 48-row chunk; widths inside one panel, exactly one, and a partial last one; a product large
    // enough to be split across threads.
    var seeded = SeededMatrices(state: 43)
    for (m, n, k) in [(1, 1, 1), (2, 15, 7), (3, 16, 64), (5, 17, 33), (6, 40, 20), (7, 33, 9), (8, 16, 5),
                      (9, 31, 16), (13, 48, 11), (16, 50, 64), (50, 21, 3), (17, 300, 260)] {
        let (ldx, ldy) = (k + 3, n + 2)
        let x = seeded.matrix(m, ldx), w = seeded.matrix(n, k), y0 = seeded.matrix(m, ldy)
        let panels = PanelMatrix(w)
        var y = y0
        x.storage.withUnsafeBufferPointer { xs in
            y.storage.withUnsafeMutableBufferPointer { ys in
                panels.multiply(xs.baseAddress!, rows: m, ldx: ldx, into: ys.baseAddress!, ldy: ldy)
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<ldy {
                var s = 0.0
                for p in 0..<k { s += Double(x[i, p]) * Double(w[j % n, p]) }
                let expected = j < n ? Float(s) : y0[i, j]   // columns past n untouched
                worst = max(worst, abs(y[i, j] - expected))
            }
        }
        #expect(worst < 1e-4, "m \(m) n \(n) k \(k) (\(BLAS.kernelPath)): \(worst)")
    }
}

@Test func panelProductOfAMatrixEqualsTimesTransposed() {
    var seeded = SeededMatrices(state: 47)
    let x = seeded.matrix(11, 70), w = seeded.matrix(45, 70)
    #expect(PanelMatrix(w).timesTransposed(x).maxAbsDifference(x.timesTransposed(w)) < 1e-4)
}
