// The QR route to σ(s·B·A) against LAPACK's SVD of the explicitly formed product.
import Adapters
import Diagnostics
import FixtureSupport
import LinearAlgebra
import Models
import Testing

/// σ of the formed m×n product, padded or cut to `count` values.
func denseSingularValues(b: Matrix, a: Matrix, scale: Float, count: Int) throws -> [Float] {
    var product = b.times(a)
    product.scaleRows(by: Array(repeating: scale, count: product.rows))
    let sigma = try product.singularValues()
    return Array((sigma + Array(repeating: 0, count: max(0, count - sigma.count))).prefix(count))
}

func expectClose(_ fast: [Float], _ dense: [Float], relativeTo top: Float, _ comment: Comment? = nil) {
    #expect(fast.count == dense.count, comment)
    for (x, y) in zip(fast, dense) { #expect(abs(x - y) <= 1e-5 * max(top, 1e-12), comment) }
}

@Test(arguments: [(40, 30, 4), (64, 17, 8), (5, 9, 8), (33, 33, 1)])
func qrRouteEqualsDenseSVD(shape: (Int, Int, Int)) throws {
    let (m, n, r) = shape
    var seeded = SeededMatrices(state: UInt64(m * 1000 + n * 10 + r))
    let b = seeded.matrix(m, r), a = seeded.matrix(r, n)
    let fast = try LowRankSpectrum.singularValues(b: b, a: a, scale: 0.5)
    let dense = try denseSingularValues(b: b, a: a, scale: 0.5, count: fast.count)
    expectClose(fast, dense, relativeTo: dense[0])
}

@Test(arguments: [(3, 10, 6), (12, 2, 5), (1, 1, 3)])
func rankAboveTheShapeGivesRValuesWithZeroTail(shape: (Int, Int, Int)) throws {
    // r > min(m, n): the core is smaller than r×r and ΔW has at most min(m, n) non-zero values.
    let (m, n, r) = shape
    var seeded = SeededMatrices(state: UInt64(m * 7 + n * 3 + r))
    let b = seeded.matrix(m, r), a = seeded.matrix(r, n)
    let fast = try LowRankSpectrum.singularValues(b: b, a: a, scale: 2)
    #expect(fast.count == r)
    #expect(fast[min(m, n)...].allSatisfy { $0 == 0 })
    expectClose(fast, try denseSingularValues(b: b, a: a, scale: 2, count: r), relativeTo: fast[0])
}

@Test func negativeScaleGivesNonNegativeValues() throws {
    var seeded = SeededMatrices(state: 3)
    let b = seeded.matrix(16, 4), a = seeded.matrix(4, 11)
    let negative = try LowRankSpectrum.singularValues(b: b, a: a, scale: -1.5)
    let positive = try LowRankSpectrum.singularValues(b: b, a: a, scale: 1.5)
    #expect(negative == positive && negative.allSatisfy { $0 >= 0 })
    expectClose(negative, try LowRankSpectrum.denseSingularValues(b: b, a: a, scale: -1.5), relativeTo: negative[0])
}

@Test func zeroFactorsGiveAZeroSpectrum() throws {
    // PEFT initialises B to zero: a fresh adapter's update has σ = 0 and metrics without NaN.
    var seeded = SeededMatrices(state: 4)
    let sigma = try LowRankSpectrum.singularValues(b: Matrix(rows: 10, cols: 4), a: seeded.matrix(4, 7), scale: 2)
    #expect(sigma == [0, 0, 0, 0])
    let metrics = SpectrumMetrics(singularValues: sigma)
    #expect(metrics.entropyRank == 0 && metrics.stableRank == 0 && metrics.energyRank(0.9) == 0)
}

@Test func rankDeficientFactorsGiveZeros() throws {
    var seeded = SeededMatrices(state: 9)
    var b = seeded.matrix(20, 4)
    for i in 0..<20 { b[i, 3] = b[i, 0] * 2 }   // column 3 repeats column 0: rank 3
    let a = seeded.matrix(4, 12)
    let fast = try LowRankSpectrum.singularValues(b: b, a: a, scale: 1)
    #expect(fast.count == 4)
    #expect(fast[3] < 1e-5 * fast[0])
    expectClose(fast, try denseSingularValues(b: b, a: a, scale: 1, count: 4), relativeTo: fast[0])
}

@Test(arguments: [("qwen2-tiny", "qwen2-lora"), ("llama-tiny", "llama-rslora-patterns")])
func fixtureAdaptersMatchDenseSVD(pair: (String, String)) throws {
    let model = try BaseModel.load(directory: Fixtures.model(pair.0))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter(pair.1), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    #expect(spectrum.modules.count == adapter.updates.count)
    for module in spectrum.modules {
        let update = adapter.updates[module.name]!
        let dense = try denseSingularValues(b: update.b, a: update.a, scale: update.scale, count: module.rank)
        expectClose(module.metrics.singularValues, dense, relativeTo: dense[0], "\(module.name)")
    }
}

@Test func truncationErrorIsEckartYoung() throws {
    // ‖ΔW − ΔW_k‖_F for the explicitly truncated SVD equals sqrt(Σ_{i>k} σᵢ²) from the QR route.
    var seeded = SeededMatrices(state: 77)
    let b = seeded.matrix(30, 6), a = seeded.matrix(6, 25)
    let metrics = SpectrumMetrics(singularValues: try LowRankSpectrum.singularValues(b: b, a: a, scale: 1))
    let product = b.times(a)
    let d = try product.svd()
    for k in [1, 3, 5] {
        var u = d.u
        u.scaleColumns(by: d.singularValues.enumerated().map { $0.offset < k ? $0.element : 0 })
        var residual = product
        for i in residual.storage.indices { residual.storage[i] -= u.times(d.vt).storage[i] }
        let explicit = residual.storage.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(metrics.truncationError(rank: k) - explicit) <= 1e-4 * metrics.frobeniusNorm, "k=\(k)")
    }
    #expect(metrics.truncationError(rank: 6) == 0)
}

@Test func doraReportsTheEffectiveUpdate() throws {
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-dora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    #expect(spectrum.isDoRA)
    for module in spectrum.modules {
        let effective = try #require(module.effectiveSingularValues)
        #expect(effective.count == min(module.shape[0], module.shape[1]))
        // The magnitude rescaling makes W' − W differ from s·BA.
        #expect(effective.count > module.rank && effective[module.rank] > 1e-6)
    }
}

@Test func doraEffectiveSpectrumIsThatOfTheMergedWeightMinusTheBase() throws {
    // An independent route to W' − W: MergedAdapter's merged weight (Adapters) minus the base.
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-dora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    let merged = MergedAdapter(adapter, model: model)
    for module in spectrum.modules {
        let base = try #require(model.linear(named: module.name)).weight
        var difference = try #require(merged.linear(named: module.name)).weight
        #expect(difference.shape == module.shape)
        for i in difference.storage.indices { difference.storage[i] -= base.storage[i] }
        let dense = try difference.singularValues()
        let effective = try #require(module.effectiveSingularValues)
        expectClose(effective, dense, relativeTo: dense[0], "\(module.name)")
    }
}

@Test func plainLoRAHasNoEffectiveSpectrum() throws {
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    #expect(!spectrum.isDoRA)
    #expect(spectrum.modules.allSatisfy { !$0.isDoRA && $0.effectiveSingularValues == nil })
}

@Test func rankSweepMatchesExplicitReconstruction() throws {
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    #expect(spectrum.defaultSweepRanks == [1, 2, 4, 8])
    let points = spectrum.sweep(ranks: [2, 8])
    // Rank 8 is the full adapter: nothing lost, every parameter kept.
    #expect(points[1].relativeError == 0 && points[1].parameterCount == adapter.parameterCount)
    // Rank 2, checked on one module by forming ΔW and its rank-2 truncation explicitly.
    let name = spectrum.modules[3].name
    let update = adapter.updates[name]!
    var product = update.b.times(update.a)
    product.scaleRows(by: Array(repeating: update.scale, count: product.rows))
    let d = try product.svd()
    var u = d.u
    u.scaleColumns(by: d.singularValues.enumerated().map { $0.offset < 2 ? $0.element : 0 })
    let truncated = u.times(d.vt)
    var lost = 0.0, total = 0.0
    for i in product.storage.indices {
        lost += Double(product.storage[i] - truncated.storage[i]) * Double(product.storage[i] - truncated.storage[i])
        total += Double(product.storage[i]) * Double(product.storage[i])
    }
    #expect(abs(points[0].moduleRelativeErrors[3] - (lost / total).squareRoot()) < 1e-4)
    #expect(points[0].relativeError > 0 && points[0].relativeError < 1)
    #expect(points[0].parameterCount == adapter.parameterCount / 4)
}
