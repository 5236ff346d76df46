// One linear module over a batch whose rows belong to different requests, each with its own
// adapter: Punica's SGMV (Chen et al. 2023, "Punica: Multi-Tenant LoRA Serving") and S-LoRA's
// unmerged batching, on CPU. The base product is computed once for every row that uses the base
// weight; each adapter then adds its low-rank delta into its own rows only. Modules that read the
// same input (q/k/v, gate/up) share one shrink product per adapter (`projections`).
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
        if segments.count == 1, segments[0].overlay == nil { return self(x) }
        return Self.projections(x, [(self, module)], segments: segments)[0]
    }

    /// `callAsFunction(_:module:segments:)` written into `y` (N × out, overwritten).
    public func apply(_ x: Matrix, module: Int, segments: [RowSegment], into y: inout Matrix) {
        var outputs = [moved(&y)]
        Self.projections(x, [(self, module)], segments: segments, into: &outputs)
        y = moved(&outputs[0])
    }

    /// Several modules that read the same input `x`, each computed as `callAsFunction(_:module:segments:)`
    /// does, except that an adapter with a `SharedShrink` for these modules runs one shrink product
    /// `x[rows]·[A_1; A_2; …]ᵀ` for all of them, then each module's expand from its columns of it.
    public static func projections(_ x: Matrix, _ layers: [(layer: Linear, module: Int)], segments: [RowSegment]) -> [Matrix] {
        var outputs = layers.map { Matrix(rows: x.rows, cols: $0.layer.outFeatures) }
        projections(x, layers, segments: segments, into: &outputs)
        return outputs
    }

    /// `projections` written into `outputs` (one N × out matrix per layer, overwritten).
    public static func projections(_ x: Matrix, _ layers: [(layer: Linear, module: Int)], segments: [RowSegment],
                                   into outputs: inout [Matrix]) {
        let k = x.cols
        precondition(layers.allSatisfy { $0.layer.inFeatures == k }, "input is \(x.shape), layers take other widths")
        precondition(outputs.count == layers.count && zip(outputs, layers).allSatisfy { $0.shape == [x.rows, $1.layer.outFeatures] },
                     "outputs do not match the layers")
        if segments.count == 1, segments[0].overlay == nil {
            for index in layers.indices { layers[index].layer.apply(x, into: &outputs[index]) }
            return
        }
        let changes = layers.map { entry in segments.map { $0.overlay?.change(ofModule: entry.module) } }
        x.storage.withUnsafeBufferPointer { xs in
            let x0 = xs.baseAddress!
            // Base and replaced products, per module.
            for (index, entry) in layers.enumerated() {
                outputs[index].storage.withUnsafeMutableBufferPointer { ys in
                    entry.layer.products(x0, k: k, into: ys.baseAddress!, segments: segments, changes: changes[index])
                }
            }
            // Low-rank deltas, per segment: shared shrink where the overlay has one for these modules.
            for (s, segment) in segments.enumerated() where !segment.rows.isEmpty {
                let rows = segment.rows, xr = x0 + rows.lowerBound * k
                var done = [Bool](repeating: false, count: layers.count)
                if layers.count > 1, let shared = segment.overlay?.sharedShrink(forModules: layers.map(\.module)) {
                    shared.accumulate(xr, rows: rows.count) { part, shrunk, ld in
                        let index = layers.firstIndex { $0.module == part.module }!
                        let n = outputs[index].cols
                        outputs[index].storage.withUnsafeMutableBufferPointer { ys in
                            part.expand(shrunk, ld: ld, into: ys.baseAddress! + rows.lowerBound * n, rows: rows.count)
                        }
                        done[index] = true
                    }
                }
                for index in layers.indices where !done[index] {
                    guard case .delta(let deltas)? = changes[index][s] else { continue }
                    let n = outputs[index].cols
                    outputs[index].storage.withUnsafeMutableBufferPointer { ys in
                        for delta in deltas { delta.accumulate(xr, into: ys.baseAddress! + rows.lowerBound * n, rows: rows.count) }
                    }
                }
            }
        }
        // DoRA's row scale, then biases.
        for (index, entry) in layers.enumerated() {
            let n = outputs[index].cols
            outputs[index].storage.withUnsafeMutableBufferPointer { ys in
                for (segment, change) in zip(segments, changes[index]) where !segment.rows.isEmpty {
                    let yr = ys.baseAddress! + segment.rows.lowerBound * n, count = segment.rows.count
                    switch change {
                    case nil:
                        addBias(entry.layer.bias, to: yr, rows: count, width: n)
                    case .replaced(let merged):
                        addBias(merged.bias, to: yr, rows: count, width: n)
                    case .delta(let deltas):
                        for case let rowScale? in deltas.map(\.rowScale) {
                            for t in 0..<count { for j in 0..<n { yr[t * n + j] *= rowScale[j] } }
                        }
                        addBias(entry.layer.bias, to: yr, rows: count, width: n)
                    }
                }
            }
        }
    }

    /// `y[t] = W·x[t]` for rows on the base weight (one GEMM per maximal run of them) and
    /// `y[t] = W'·x[t]` for rows of segments that replace this module.
    private func products(_ x0: UnsafePointer<Float>, k: Int, into y0: UnsafeMutablePointer<Float>,
                          segments: [RowSegment], changes: [ModuleChange?]) {
        let n = outFeatures
        var runStart: Int? = nil
        for (i, segment) in segments.enumerated() {
            let usesBase: Bool
            if case .replaced? = changes[i] { usesBase = false } else { usesBase = true }
            if usesBase, runStart == nil { runStart = segment.rows.lowerBound }
            let runEnds = !usesBase || i == segments.count - 1
            if runEnds, let start = runStart {
                let end = usesBase ? segment.rows.upperBound : segment.rows.lowerBound
                stored.multiply(x0 + start * k, rows: end - start, ldx: k, into: y0 + start * n, ldy: n)
                runStart = nil
            }
        }
        for (segment, change) in zip(segments, changes) where !segment.rows.isEmpty {
            guard case .replaced(let merged) = change else { continue }
            merged.stored.multiply(x0 + segment.rows.lowerBound * k, rows: segment.rows.count, ldx: k,
                                   into: y0 + segment.rows.lowerBound * n, ldy: n)
        }
    }
}

/// The A factors of several modules that read the same input, stacked so that one GEMM shrinks the
/// input for all of them: `t = x·[A_1; A_2; …]ᵀ` (rows × Σr), then `y_i += s_i · t[:, cols of i]·B_iᵀ`.
public struct SharedShrink: Sendable {
    public struct Part: Sendable {
        public let module: Int
        public let b: Matrix        // (out, r)
        public let scale: Float
        /// Where this module's columns start in the stacked shrink.
        public let offset: Int

        /// `y[t] += scale · B·t[t, offset..<offset+r]`.
        func expand(_ shrunk: UnsafePointer<Float>, ld: Int, into y: UnsafeMutablePointer<Float>, rows: Int) {
            let n = b.rows, r = b.cols
            b.storage.withUnsafeBufferPointer { bs in
                gemm(.none, .transpose, m: rows, n: n, k: r, alpha: scale, a: shrunk + offset, lda: ld, b: bs.baseAddress!, ldb: r,
                     beta: 1, c: y, ldc: n)
            }
        }
    }

    public let stackedA: Matrix     // (Σr, in)
    public let parts: [Part]

    /// Stacks `deltas` (module index, delta) of one input width. A DoRA row scale is not part of the
    /// shrink: it is applied per module after every expand, as for an unshared delta.
    public init(_ deltas: [(module: Int, delta: LowRankDelta)]) {
        var storage: [Float] = []
        var parts: [Part] = []
        for (module, delta) in deltas {
            parts.append(Part(module: module, b: delta.b, scale: delta.scale, offset: storage.count / max(1, delta.a.cols)))
            storage += delta.a.storage
        }
        stackedA = Matrix(rows: parts.isEmpty ? 0 : storage.count / deltas[0].delta.a.cols, cols: deltas.first?.delta.a.cols ?? 0,
                          storage: storage)
        self.parts = parts
    }

    /// One shrink GEMM for `rows` rows of `x`, then `expand` for each part.
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, _ expand: (Part, UnsafePointer<Float>, Int) -> Void) {
        let r = stackedA.rows, k = stackedA.cols
        var shrunk = [Float](repeating: 0, count: rows * r)   // (rows, Σr)
        shrunk.withUnsafeMutableBufferPointer { s in
            stackedA.storage.withUnsafeBufferPointer { a in
                gemm(.none, .transpose, m: rows, n: r, k: k, a: x, lda: k, b: a.baseAddress!, ldb: k, c: s.baseAddress!, ldc: r)
            }
            for part in parts { expand(part, UnsafePointer(s.baseAddress!), r) }
        }
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
