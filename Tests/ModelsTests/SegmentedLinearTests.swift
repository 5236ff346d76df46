// The batched linear kernel (Punica's SGMV on CPU) against the loop it documents, in Double, on a
// batch mixing base rows, low-rank deltas (one and several, with and without DoRA's row scale) and
// replaced (merged) weights, with a fixed seed.
import FixtureSupport
import LinearAlgebra
import Models
import Testing

/// An overlay with a fixed change for one module index.
private struct FixedOverlay: LinearOverlay {
    let module: Int
    let fixed: ModuleChange
    let key: Int
    func change(ofModule index: Int) -> ModuleChange? { index == module ? fixed : nil }
    var batchKey: AnyHashable { AnyHashable(key) }
}

/// The documented loop: per segment and row, the base or replaced product plus every delta, DoRA's
/// row scale, then the bias.
private func referenceSegmented(_ layer: Linear, _ x: Matrix, module: Int, segments: [RowSegment]) -> Matrix {
    var y = Matrix(rows: x.rows, cols: layer.outFeatures)
    for segment in segments {
        for t in segment.rows {
            var weight = layer.weight, bias = layer.bias, deltas: [LowRankDelta] = []
            switch segment.overlay?.change(ofModule: module) {
            case nil: break
            case .replaced(let merged): weight = merged.weight; bias = merged.bias
            case .delta(let ds): deltas = ds
            }
            for j in 0..<layer.outFeatures {
                var s = 0.0
                for p in 0..<layer.inFeatures { s += Double(weight[j, p]) * Double(x[t, p]) }
                for d in deltas {
                    for r in 0..<d.rank {
                        var ax = 0.0
                        for p in 0..<layer.inFeatures { ax += Double(d.a[r, p]) * Double(x[t, p]) }
                        s += Double(d.scale) * Double(d.b[j, r]) * ax
                    }
                }
                for d in deltas { if let rowScale = d.rowScale { s *= Double(rowScale[j]) } }
                y[t, j] = Float(s + Double(bias?[j] ?? 0))
            }
        }
    }
    return y
}

@Test func segmentedLinearMatchesItsLoop() {
    var seeded = SeededMatrices(state: 11)
    let (inF, outF, module) = (24, 17, 3)
    let layer = Linear(weight: seeded.matrix(outF, inF), bias: seeded.matrix(1, outF).storage)
    func delta(rank: Int, scale: Float, dora: Bool) -> LowRankDelta {
        LowRankDelta(a: seeded.matrix(rank, inF), b: seeded.matrix(outF, rank), scale: scale,
                     rowScale: dora ? seeded.matrix(1, outF).storage.map { 1 + $0 / 4 } : nil)
    }
    let lora = FixedOverlay(module: module, fixed: .delta([delta(rank: 4, scale: 2, dora: false)]), key: 1)
    let dora = FixedOverlay(module: module, fixed: .delta([delta(rank: 2, scale: 0.5, dora: true)]), key: 2)
    let composed = FixedOverlay(module: module, fixed: .delta([delta(rank: 3, scale: 1, dora: false), delta(rank: 8, scale: -0.25, dora: false)]), key: 3)
    let merged = FixedOverlay(module: module, fixed: .replaced(Linear(weight: seeded.matrix(outF, inF), bias: layer.bias)), key: 4)
    let elsewhere = FixedOverlay(module: module + 1, fixed: .delta([delta(rank: 4, scale: 9, dora: false)]), key: 5)
    let x = seeded.matrix(14, inF)
    // Base, LoRA, merged, DoRA, base, merged, composed, an overlay that leaves this module alone.
    let layouts: [[(Range<Int>, (any LinearOverlay)?)]] = [
        [(0..<14, nil)],
        [(0..<2, nil), (2..<5, lora), (5..<6, merged), (6..<8, dora), (8..<9, nil), (9..<11, merged), (11..<13, composed), (13..<14, elsewhere)],
        [(0..<7, merged), (7..<14, merged)],
        [(0..<1, lora), (1..<14, composed)],
    ]
    for layout in layouts {
        let segments = layout.map { RowSegment(rows: $0.0, overlay: $0.1) }
        let fast = layer(x, module: module, segments: segments)
        let slow = referenceSegmented(layer, x, module: module, segments: segments)
        #expect(fast.shape == slow.shape)
        #expect(fast.maxAbsDifference(slow) < 1e-4, "\(layout.map(\.0))")
    }
}

@Test func oneRowProductsMatchTheLoopThroughGEMV() {
    // m == 1 goes to sgemv: both transposes of B, and a strided (transposed) A.
    var seeded = SeededMatrices(state: 5)
    let a = seeded.matrix(1, 33), w = seeded.matrix(19, 33), b = seeded.matrix(33, 19)
    #expect(a.timesTransposed(w).maxAbsDifference(referenceGEMM(a, w, transposeB: true)) < 1e-5)
    #expect(a.times(b).maxAbsDifference(referenceGEMM(a, b, transposeB: false)) < 1e-5)
    let column = seeded.matrix(33, 1)
    #expect(column.transposedTimes(b).maxAbsDifference(referenceGEMM(column.transposed(), b, transposeB: false)) < 1e-5)
}

private func referenceGEMM(_ a: Matrix, _ b: Matrix, transposeB: Bool) -> Matrix {
    let n = transposeB ? b.rows : b.cols
    var out = Matrix(rows: a.rows, cols: n)
    for i in 0..<a.rows { for j in 0..<n {
        var s = 0.0
        for p in 0..<a.cols { s += Double(a[i, p]) * Double(transposeB ? b[j, p] : b[p, j]) }
        out[i, j] = Float(s)
    } }
    return out
}

/// Deltas on three modules that read one input, with or without a shared shrink.
private struct GroupOverlay: LinearOverlay {
    let deltas: [Int: LowRankDelta]
    let shared: SharedShrink?
    func change(ofModule index: Int) -> ModuleChange? { deltas[index].map { .delta([$0]) } }
    var batchKey: AnyHashable { AnyHashable(shared == nil ? 10 : 11) }
    func sharedShrink(forModules modules: [Int]) -> SharedShrink? { shared }
}

@Test func projectionsShareOneShrinkPerAdapter() {
    var seeded = SeededMatrices(state: 29)
    let k = 20
    let layers = [(Linear(weight: seeded.matrix(12, k), bias: seeded.matrix(1, 12).storage), 0),
                  (Linear(weight: seeded.matrix(6, k)), 1), (Linear(weight: seeded.matrix(6, k)), 2)]
    let deltas: [Int: LowRankDelta] = [
        0: LowRankDelta(a: seeded.matrix(4, k), b: seeded.matrix(12, 4), scale: 2, rowScale: nil),
        2: LowRankDelta(a: seeded.matrix(3, k), b: seeded.matrix(6, 3), scale: 0.5, rowScale: seeded.matrix(1, 6).storage),
    ]
    let separate = GroupOverlay(deltas: deltas, shared: nil)
    let shared = GroupOverlay(deltas: deltas, shared: SharedShrink([(0, deltas[0]!), (2, deltas[2]!)]))
    let x = seeded.matrix(9, k)
    let segments = [RowSegment(rows: 0..<3, overlay: nil), RowSegment(rows: 3..<7, overlay: shared), RowSegment(rows: 7..<9, overlay: separate)]
    let outputs = Linear.projections(x, layers.map { ($0.0, $0.1) }, segments: segments)
    for (index, (layer, module)) in layers.enumerated() {
        let alone = referenceSegmented(layer, x, module: module, segments: segments)
        #expect(outputs[index].maxAbsDifference(alone) < 1e-4, "module \(module)")
    }
    // The shared shrink is what runs: one with another scale gives other rows.
    let wrong = GroupOverlay(deltas: deltas, shared: SharedShrink([(0, LowRankDelta(a: deltas[0]!.a, b: deltas[0]!.b, scale: 9, rowScale: nil)),
                                                                   (2, deltas[2]!)]))
    let changed = Linear.projections(x, layers.map { ($0.0, $0.1) }, segments: [RowSegment(rows: 0..<9, overlay: wrong)])
    #expect(changed[0].maxAbsDifference(referenceSegmented(layers[0].0, x, module: 0, segments: [RowSegment(rows: 0..<9, overlay: separate)])) > 1e-2)
}
