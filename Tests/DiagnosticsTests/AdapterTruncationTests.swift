// Truncation through the factors against the explicit reference: form s·B·A, take its dense SVD,
// keep k values (Eckart–Young), and compare; the sweep's closed-form errors against explicitly
// reconstructed truncations of a fixture adapter.
import Adapters
import Diagnostics
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

/// `scale · b · a`, formed (out × in).
func formed(_ b: Matrix, _ a: Matrix, _ scale: Float) -> Matrix {
    var product = Matrix(rows: b.rows, cols: a.cols)
    b.accumulateTimes(a, into: &product, alpha: scale, beta: 0)
    return product
}

/// U_k·Σ_k·V_kᵀ of the dense SVD of `w`: the slow reference.
func denseBestRank(_ w: Matrix, _ k: Int) throws -> Matrix {
    let svd = try w.svd()
    var out = Matrix(rows: w.rows, cols: w.cols)
    for p in 0..<min(k, svd.singularValues.count) {
        for i in 0..<w.rows { for j in 0..<w.cols { out[i, j] += svd.u[i, p] * svd.singularValues[p] * svd.vt[p, j] } }
    }
    return out
}

func frobenius(_ w: Matrix) -> Double { w.storage.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

func difference(_ x: Matrix, _ y: Matrix) -> Matrix {
    Matrix(rows: x.rows, cols: x.cols, storage: zip(x.storage, y.storage).map { $0 - $1 })
}

// (out, in, r, alpha, rsLoRA): square and skinny modules, rsLoRA, a negative alpha, r > min(out, in).
@Test(arguments: [(24, 16, 6, 12.0, false), (10, 31, 8, 16.0, true), (20, 20, 4, -8.0, false), (3, 12, 5, 5.0, false)])
func truncationIsTheBestRankKApproximation(_ c: (Int, Int, Int, Double, Bool)) throws {
    let (out, inFeatures, r, alpha, rs) = c
    var seeded = SeededMatrices(state: UInt64(out * 100 + inFeatures + r))
    let b = seeded.matrix(out, r), a = seeded.matrix(r, inFeatures)
    let scale = AdapterTruncation.scale(alpha: alpha, rank: r, rsLoRA: rs)
    let update = LoRAUpdate(a: a, b: b, scale: scale, doraRowScale: nil)
    let full = formed(b, a, scale)
    let sigma = SpectrumMetrics(singularValues: try LowRankSpectrum.singularValues(b: b, a: a, scale: scale))
    for k in 1...(r + 1) {
        let t = try AdapterTruncation.truncate(update, rank: k, alpha: alpha, rsLoRA: rs)
        #expect(t.storedRank == min(k, r) && t.a.shape == [min(k, r), inFeatures] && t.b.shape == [out, min(k, r)])
        // The written scale is the one peft derives from alpha and the new rank.
        #expect(t.scale == AdapterTruncation.scale(alpha: alpha, rank: min(k, r), rsLoRA: rs))
        let truncated = formed(t.b, t.a, t.scale)
        let reference = try denseBestRank(full, k)
        // fp32 QR + SVD against a dense fp32 SVD: agreement to ~1e-6 of ‖ΔW‖; 1e-5 leaves headroom.
        #expect(frobenius(difference(truncated, reference)) <= 1e-5 * frobenius(full), "k=\(k)")
        // Eckart–Young: the error left is exactly the closed form sqrt(Σ_{i>k} σᵢ²).
        let error = frobenius(difference(full, truncated))
        #expect(abs(error - sigma.truncationError(rank: k)) <= 1e-5 * frobenius(full), "k=\(k)")
    }
}

@Test func rankZeroIsAnExactlyZeroUpdateStoredAtRankOne() throws {
    var seeded = SeededMatrices(state: 9)
    let update = LoRAUpdate(a: seeded.matrix(4, 7), b: seeded.matrix(5, 4), scale: 2, doraRowScale: nil)
    let t = try AdapterTruncation.truncate(update, rank: 0, alpha: 8, rsLoRA: false)
    #expect(t.keptRank == 0 && t.storedRank == 1 && t.scale == 8)
    #expect(t.b.storage.allSatisfy { $0 == 0 })
}

@Test func sweepErrorsEqualExplicitlyReconstructedTruncations() throws {
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-rslora-patterns"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    let ranks = [0, 1, 2, 3, 4, 8]
    let points = spectrum.sweep(ranks: ranks)
    for (k, point) in zip(ranks, points) {
        let truncated = try AdapterTruncation.truncated(adapter, ranks: Dictionary(uniqueKeysWithValues: adapter.moduleNames.map { ($0, k) }), model: model)
        var lost = 0.0, total = 0.0
        for (module, reported) in zip(adapter.moduleNames, point.moduleRelativeErrors) {
            let u = adapter.updates[module]!, t = truncated.updates[module]!
            #expect(t.rank == max(1, min(k, u.rank)))
            let full = formed(u.b, u.a, u.scale)
            let error = frobenius(difference(full, formed(t.b, t.a, t.scale)))
            #expect(abs(error / frobenius(full) - reported) <= 1e-5, "\(module) k=\(k)")
            lost += error * error
            total += frobenius(full) * frobenius(full)
        }
        #expect(abs((lost / total).squareRoot() - point.relativeError) <= 1e-5)
    }
    #expect(points.map(\.relativeError) == points.map(\.relativeError).sorted(by: >))
    #expect(points.last!.relativeError == 0 && points.first!.relativeError == 1)
}

@Test func doraRowScalesAreRecomputedForTheTruncatedUpdate() throws {
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-dora"), model: model)
    let truncated = try AdapterTruncation.truncated(adapter, ranks: Dictionary(uniqueKeysWithValues: adapter.moduleNames.map { ($0, 2) }), model: model)
    for module in adapter.moduleNames {
        let w = model.linear(named: module)!.weight
        let u = adapter.updates[module]!, t = truncated.updates[module]!
        // m = rowScale·‖W + s·BA‖_row is the same before and after; the norms change.
        let m0 = zip(u.doraRowScale!, u.added(to: w).rowNorms()).map { $0 * $1 }
        let m1 = zip(t.doraRowScale!, t.added(to: w).rowNorms()).map { $0 * $1 }
        #expect(maxAbsDifference(m0, m1) <= 1e-5 * (m0.map(abs).max() ?? 1))
        #expect(maxAbsDifference(u.doraRowScale!, t.doraRowScale!) > 0)
    }
}
