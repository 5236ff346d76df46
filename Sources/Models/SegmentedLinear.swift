// One linear module over a batch whose rows belong to different requests, each with its own
// adapter: Punica's SGMV (Chen et al. 2023, "Punica: Multi-Tenant LoRA Serving") and S-LoRA's
// unmerged batching, on CPU. The base product is computed once for every row that uses the base
// weight; each adapter then adds its low-rank delta into its own rows only.
import LinearAlgebra

extension Linear {
    /// `x` (N × in) → `y` (N × out), rows grouped into `segments` that cover `0..<N` in order. As a loop:
    ///
    ///     for segment in segments { for t in segment.rows {
    ///         switch segment.overlay?.change(ofModule: module) {
    ///         case nil:               y[t] = W·x[t] + b
    ///         case .replaced(L):      y[t] = L.W·x[t] + L.b
    ///         case .delta(ds):        y[t] = W·x[t] + Σ_d s_d · B_d·(A_d·x[t])
    ///                                 if a delta has a DoRA rowScale: y[t] = rowScale ⊙ y[t]
    ///                                 y[t] += b
    ///         }
    ///     } }
    ///
    /// Computed as one base GEMM per maximal run of rows that start from `W` (a single GEMM over the
    /// whole batch unless some segment runs merged weights), one GEMM per replaced segment, and per
    /// delta the shrink `x[rows]·Aᵀ` (rows × r) and the expand `+= s·(x[rows]·Aᵀ)·Bᵀ` straight into
    /// `y[rows]` (β = 1): nothing of `y` is copied.
    public func callAsFunction(_ x: Matrix, module: Int, segments: [RowSegment]) -> Matrix {
        precondition(x.cols == inFeatures, "input is \(x.shape), layer takes \(inFeatures) features")
        if segments.count == 1, segments[0].overlay == nil { return self(x) }
        let changes = segments.map { $0.overlay?.change(ofModule: module) }
        let n = outFeatures, k = inFeatures
        var y = Matrix(rows: x.rows, cols: n)
        x.storage.withUnsafeBufferPointer { xs in
            y.storage.withUnsafeMutableBufferPointer { ys in
                let x0 = xs.baseAddress!, y0 = ys.baseAddress!
                weight.storage.withUnsafeBufferPointer { w in
                    // Base rows: W·x over each maximal run of segments that are not replaced.
                    var runStart: Int? = nil
                    for (i, segment) in segments.enumerated() {
                        let usesBase: Bool
                        if case .replaced? = changes[i] { usesBase = false } else { usesBase = true }
                        if usesBase, runStart == nil { runStart = segment.rows.lowerBound }
                        let runEnds = !usesBase || i == segments.count - 1
                        if runEnds, let start = runStart {
                            let end = usesBase ? segment.rows.upperBound : segment.rows.lowerBound
                            gemm(.none, .transpose, m: end - start, n: n, k: k, a: x0 + start * k, lda: k,
                                 b: w.baseAddress!, ldb: k, c: y0 + start * n, ldc: n)
                            runStart = nil
                        }
                    }
                }
                for (segment, change) in zip(segments, changes) {
                    let rows = segment.rows
                    guard !rows.isEmpty else { continue }
                    let xr = x0 + rows.lowerBound * k, yr = y0 + rows.lowerBound * n
                    switch change {
                    case nil:
                        addBias(bias, to: yr, rows: rows.count, width: n)
                    case .replaced(let merged):
                        merged.weight.storage.withUnsafeBufferPointer { w in
                            gemm(.none, .transpose, m: rows.count, n: n, k: k, a: xr, lda: k, b: w.baseAddress!, ldb: k,
                                 c: yr, ldc: n)
                        }
                        addBias(merged.bias, to: yr, rows: rows.count, width: n)
                    case .delta(let deltas):
                        for delta in deltas { delta.accumulate(xr, into: yr, rows: rows.count) }
                        for case let rowScale? in deltas.map(\.rowScale) {
                            for t in 0..<rows.count { for j in 0..<n { yr[t * n + j] *= rowScale[j] } }
                        }
                        addBias(bias, to: yr, rows: rows.count, width: n)
                    }
                }
            }
        }
        return y
    }
}

extension LowRankDelta {
    /// `y[t] += scale · B·(A·x[t])` for `rows` rows of `x` (rows × in) and `y` (rows × out): the
    /// shrink GEMM into a rows × r scratch, then the expand GEMM added into `y`.
    func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int) {
        let r = rank, k = a.cols, n = b.rows
        var shrunk = [Float](repeating: 0, count: rows * r)   // (rows, r)
        shrunk.withUnsafeMutableBufferPointer { s in
            a.storage.withUnsafeBufferPointer { a in
                gemm(.none, .transpose, m: rows, n: r, k: k, a: x, lda: k, b: a.baseAddress!, ldb: k, c: s.baseAddress!, ldc: r)
            }
            b.storage.withUnsafeBufferPointer { b in
                gemm(.none, .transpose, m: rows, n: n, k: r, alpha: scale, a: s.baseAddress!, lda: r, b: b.baseAddress!, ldb: r,
                     beta: 1, c: y, ldc: n)
            }
        }
    }
}

@inline(__always)
private func addBias(_ bias: [Float]?, to y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    guard let bias else { return }
    for t in 0..<rows { for j in 0..<width { y[t * width + j] += bias[j] } }
}
