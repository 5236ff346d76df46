// The batched decode-step attention (eckart_decode_attention) against the loop it documents: one
// query row per sequence, each over its own keys and values and visible range, grouped query heads.
import FixtureSupport
import Foundation
import LinearAlgebra
@testable import Models
import Testing

@Test func decodeAttentionMatchesItsLoop() {
    var seeded = SeededMatrices(state: 53)
    for (heads, kvHeads, headDim) in [(6, 2, 20), (9, 3, 64), (4, 4, 8), (2, 1, 3)] {
        // Sequences of different lengths; the third sees a sliding window, the last only itself.
        let lengths = [1, 7, 40, 19, 1]
        let visible = [0..<1, 0..<7, 29..<40, 0..<19, 0..<1]
        let width = kvHeads * headDim
        let queries = lengths.map { _ in seeded.matrix(1, heads * headDim) }
        let keys = lengths.map { seeded.matrix($0, width) }, values = lengths.map { seeded.matrix($0, width) }
        let outs = lengths.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: heads * headDim) }
        defer { outs.forEach { $0.deallocate() } }
        for out in outs { out.initialize(repeating: .nan, count: heads * headDim) }
        let queryPointers = queries.map { q in UnsafeMutablePointer<Float>.allocate(capacity: q.count) }
        defer { queryPointers.forEach { $0.deallocate() } }
        for (pointer, q) in zip(queryPointers, queries) { pointer.initialize(from: q.storage, count: q.count) }
        decodeAttention(queries: queryPointers.map { UnsafePointer($0) }, keys: keys.map(\.storage), values: values.map(\.storage),
                        visible: visible, heads: heads, kvHeads: kvHeads, headDim: headDim, into: outs)

        var worst = 0.0
        for s in lengths.indices {
            for h in 0..<heads {
                let kv = h / (heads / kvHeads)
                var scores: [Double] = []
                for j in visible[s] {
                    var dot = 0.0
                    for i in 0..<headDim { dot += Double(queries[s][0, h * headDim + i]) * Double(keys[s][j, kv * headDim + i]) }
                    scores.append(dot / Double(headDim).squareRoot())
                }
                let top = scores.max()!
                let weights = scores.map { exp($0 - top) }, total = weights.reduce(0, +)
                for i in 0..<headDim {
                    var expected = 0.0
                    for (w, j) in zip(weights, visible[s]) { expected += w / total * Double(values[s][j, kv * headDim + i]) }
                    worst = max(worst, abs(expected - Double(outs[s][h * headDim + i])))
                }
            }
        }
        #expect(worst < 1e-5, "heads \(heads)/\(kvHeads), d \(headDim) (\(BLAS.kernelPath)): \(worst)")
    }
}
