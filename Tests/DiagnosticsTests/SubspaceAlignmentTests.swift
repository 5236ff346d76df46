// ΔW's singular vectors from the factors, block Krylov top-k SVD, and subspace overlap / intruder
// dimensions, each against dense SVDs computed here.
@testable import Adapters
import Diagnostics
import FixtureSupport
import LinearAlgebra
import Models
import Testing

/// Columns [0, count) of m.
private func columns(_ m: Matrix, _ count: Int) -> Matrix {
    Matrix(rows: m.rows, cols: count, storage: (0..<m.rows).flatMap { i in (0..<count).map { m[i, $0] } })
}

@Test func lowRankFactorizationReconstructsTheUpdate() throws {
    var random = SeededMatrices(state: 7)
    for (m, n, r, scale) in [(24, 16, 4, Float(0.5)), (16, 40, 6, Float(-2)), (3, 20, 8, Float(1))] {
        let b = random.matrix(m, r), a = random.matrix(r, n)
        let f = try LowRankSpectrum.factorization(b: b, a: a, scale: scale)
        var dense = b.times(a)
        dense.scaleRows(by: Array(repeating: scale, count: m))
        var rebuilt = f.u
        rebuilt.scaleColumns(by: f.singularValues)
        // fp32 products of O(1) entries summed over ≤ 40 terms: 1e-5 relative to the largest entry.
        let largest = dense.storage.map(abs).max()!
        #expect(rebuilt.timesTransposed(f.v).maxAbsDifference(dense) <= 1e-5 * largest * 10)
        let gramU = f.u.transposedTimes(f.u), gramV = f.v.transposedTimes(f.v)
        for i in 0..<gramU.rows { for j in 0..<gramU.cols { #expect(abs(gramU[i, j] - (i == j ? 1 : 0)) < 1e-5) } }
        for i in 0..<gramV.rows { for j in 0..<gramV.cols { #expect(abs(gramV[i, j] - (i == j ? 1 : 0)) < 1e-5) } }
        #expect(f.numericalRank == min(m, n, r))
    }
}

@Test func blockKrylovMatchesDenseSVD() throws {
    var random = SeededMatrices(state: 11)
    for (m, n) in [(60, 40), (40, 70), (12, 12)] {
        let a = random.matrix(m, n)
        let op = MatrixOperator(rows: m, cols: n, apply: { a.times($0) }, applyTransposed: { a.transposedTimes($0) })
        let found = try BlockKrylov.topSingularTriplets(of: op, count: 10)
        let dense = try a.svd()
        let k = min(10, m, n)
        #expect(found.singularValues.count == k && found.relativeResidual <= 1e-4)
        for i in 0..<k {
            #expect(abs(found.singularValues[i] - dense.singularValues[i]) <= 1e-4 * dense.singularValues[0])
            // Same direction up to sign: |uᵢᵀ u_dense,i| ≈ 1 (these random spectra have no repeated σ).
            let dot = (0..<m).reduce(Float(0)) { $0 + found.u[$1, i] * dense.u[$1, i] }
            #expect(abs(abs(dot) - 1) < 1e-3)
        }
    }
}

/// The alignment computed with explicit dense SVDs of ΔW and W′ = merged weight, in plain loops.
private func denseReference(weight w: Matrix, update: LoRAUpdate, top k: Int) throws -> (left: Double, right: Double, cosines: [Double]) {
    let base = try w.svd()
    var delta = update.b.times(update.a)
    delta.scaleRows(by: Array(repeating: update.scale, count: delta.rows))
    let d = try delta.svd()
    let cutoff = Float(max(w.rows, w.cols)) * Float.ulpOfOne * d.singularValues[0]
    let r = d.singularValues.filter { $0 > cutoff }.count
    var left = 0.0, right = 0.0
    for i in 0..<k { for j in 0..<r {
        let l = (0..<w.rows).reduce(0.0) { $0 + Double(base.u[$1, i]) * Double(d.u[$1, j]) }
        let rr = (0..<w.cols).reduce(0.0) { $0 + Double(base.vt[i, $1]) * Double(d.vt[j, $1]) }
        left += l * l
        right += rr * rr
    } }
    let fineTuned = try update.mergedWeight(onto: w).svd()
    let cosines = (0..<min(10, w.rows, w.cols)).map { i in
        (0..<base.u.cols).map { j in abs((0..<w.rows).reduce(0.0) { $0 + Double(fineTuned.u[$1, i]) * Double(base.u[$1, j]) }) }.max()!
    }
    return (left / Double(r), right / Double(r), cosines)
}

@Test(arguments: [("bert-tiny", "bert-lora"), ("bert-tiny", "bert-dora"), ("qwen2-tiny", "qwen2-dora"), ("llama-tiny", "llama-rslora-patterns")])
func alignmentMatchesDenseReference(model name: String, adapter adapterName: String) throws {
    let model = try BaseModel.load(directory: Fixtures.model(name))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter(adapterName), model: model)
    for moduleName in adapter.moduleNames {
        let w = model.linear(named: moduleName)!.weight
        let update = adapter.updates[moduleName]!
        for top in [nil, 3] as [Int?] {
            let got = try SubspaceAlignment.module(name: moduleName, weight: w, base: try w.svd(), update: update, top: top)
            let k = min(top ?? update.rank, min(w.rows, w.cols))
            let want = try denseReference(weight: w, update: update, top: k)
            #expect(got.top == k)
            // Overlaps are sums of squared fp32 dot products of unit vectors: 1e-4 absolute.
            #expect(abs(got.leftOverlap - want.left) < 1e-4, "\(moduleName) left")
            #expect(abs(got.rightOverlap - want.right) < 1e-4, "\(moduleName) right")
            #expect(got.intruderCosines.count == want.cosines.count)
            // Krylov vs dense singular vectors of W′: 1e-3 on a cosine (the residual tolerance is 1e-5·σ₁).
            for (x, y) in zip(got.intruderCosines, want.cosines) { #expect(abs(x - y) < 1e-3, "\(moduleName) cosine") }
            #expect(got.intruderDimensions == want.cosines.filter { $0 < 0.5 }.count)
        }
    }
}

@Test func anUpdateOutsideTheBaseRangeIsAnIntruder() throws {
    // W is 40×30, so its left singular vectors span 30 of 40 dimensions. A strong rank-1 update along
    // a direction orthogonal to that span becomes W′'s top direction, nearly orthogonal to all of W's.
    var random = SeededMatrices(state: 3)
    let w = random.matrix(40, 30)
    let base = try w.svd()
    var x = random.matrix(40, 1)
    let projection = base.u.transposedTimes(x)                    // (30, 1)
    base.u.accumulateTimes(projection, into: &x, alpha: -1, beta: 1)   // x ⟂ range(W)
    let update = LoRAUpdate(a: random.matrix(1, 30), b: x, scale: 100, doraRowScale: nil)
    let got = try SubspaceAlignment.module(name: "m", weight: w, base: base, update: update)
    // W′'s top vector is x/‖x‖ tilted by W·v₁ / σ₁(W′) = O(σ₁(W)/σ(ΔW)) ≈ 1e-2 here.
    #expect(got.intruderCosines[0] < 0.05 && got.intruderDimensions >= 1, "\(got.intruderCosines)")
    #expect(got.leftOverlap < 1e-6)   // U_Δ ⟂ every left singular vector of W
    #expect(abs(got.randomLeftOverlap - 1.0 / 40) < 1e-12)
}
