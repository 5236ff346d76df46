// σ of the base weights against independent checks, the projection table, and the content-keyed
// cache (memory hit, disk hit, corrupt files recomputed, a changed weight changes the key).
import Diagnostics
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

private func scratchCacheDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("eckart-diag-\(UUID().uuidString)")
}

@Test func baseSingularValuesPassIndependentChecks() throws {
    let model = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    let cache = BaseSpectrumCache(model: model, directory: nil)
    let spectrum = try #require(try BaseSpectrum.compute(modules: model.linearModules.map(\.name), cache: cache))
    #expect(spectrum.modules.map(\.shape) == model.linearModules.map { [$0.outFeatures, $0.inFeatures] })
    for module in spectrum.modules {
        let w = model.linear(named: module.name)!.weight
        let sigma = module.metrics.singularValues.map(Double.init)
        #expect(sigma.count == min(w.rows, w.cols))
        // Σσ² = ‖W‖²_F = trace(WᵀW) and Σσ⁴ = ‖WᵀW‖²_F, both from W's entries in Double; σ₁ from power
        // iteration on WᵀW. fp32 SVD keeps relative errors near 1e-6; 1e-4 leaves room and still fails
        // on any wrong or missing value (one σ of a 32×32 module is ≳1% of these sums).
        let gram = (0..<w.cols).map { i in (0..<w.cols).map { j in (0..<w.rows).reduce(0.0) { $0 + Double(w[$1, i]) * Double(w[$1, j]) } } }
        let frobenius2 = w.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
        let gram2 = gram.joined().reduce(0.0) { $0 + $1 * $1 }
        #expect(abs(sigma.reduce(0) { $0 + $1 * $1 } - frobenius2) <= 1e-4 * frobenius2)
        #expect(abs(sigma.reduce(0) { $0 + $1 * $1 * $1 * $1 } - gram2) <= 1e-4 * gram2)
        #expect(abs(module.metrics.frobeniusNorm - frobenius2.squareRoot()) <= 1e-4 * frobenius2.squareRoot())
        var x = [Double](repeating: 1, count: w.cols), lambda = 0.0
        for _ in 0..<500 {
            let y = gram.map { row in zip(row, x).reduce(0.0) { $0 + $1.0 * $1.1 } }
            lambda = y.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            x = y.map { $0 / lambda }
        }
        #expect(abs(sigma[0] - lambda.squareRoot()) <= 1e-3 * sigma[0])
        #expect(!module.cached)
    }
}

@Test func projectionsGroupByLastComponentAndSplitAmbiguousDense() throws {
    let bert = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    let names = bert.linearModules.map(\.name)
    let projection = BaseSpectrum.projections(of: names)
    #expect(projection["encoder.layer.1.attention.self.query"] == "query")
    #expect(projection["encoder.layer.0.attention.output.dense"] == "attention.output.dense")
    #expect(projection["encoder.layer.0.intermediate.dense"] == "intermediate.dense")
    #expect(projection["encoder.layer.1.output.dense"] == "output.dense")
    let decoder = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let decoderProjection = BaseSpectrum.projections(of: decoder.linearModules.map(\.name))
    #expect(decoderProjection["model.layers.1.self_attn.q_proj"] == "q_proj")
    #expect(decoderProjection["model.layers.0.mlp.down_proj"] == "down_proj")
    #expect(decoderProjection["lm_head"] == "lm_head")
}

@Test func tableAveragesEachProjection() throws {
    let model = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    let spectrum = try #require(try BaseSpectrum.compute(modules: model.linearModules.map(\.name),
                                                         cache: BaseSpectrumCache(model: model, directory: nil)))
    let table = spectrum.table
    // Two layers of each projection, and the pooler outside the layers.
    #expect(table.map(\.projection) == ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense", "pooler.dense"])
    #expect(table.map(\.moduleCount) == [2, 2, 2, 2, 2, 2, 1])
    for row in table {
        let group = spectrum.modules.filter { $0.projection == row.projection }
        #expect(row.moduleCount == group.count)
        #expect(row.fullRank == 32)
        for t in SpectrumMetrics.energyThresholds {
            let ranks = group.map { Double($0.metrics.energyRank(t)) }
            #expect(abs(row.meanEnergyRank[t]! - ranks.reduce(0, +) / Double(group.count)) < 1e-12)
            #expect(abs(row.meanEnergyRankFraction[t]! - row.meanEnergyRank[t]! / 32) < 1e-12)
        }
    }
}

@Test func cacheServesMemoryThenDiskAndRecomputesCorruptFiles() throws {
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let directory = scratchCacheDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let cache = BaseSpectrumCache(model: model, directory: directory)
    let names = ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"]
    let first = try #require(try BaseSpectrum.compute(modules: names, cache: cache))
    #expect(first.modules.allSatisfy { !$0.cached })
    let memory = try #require(try BaseSpectrum.compute(modules: names, cache: cache))
    #expect(memory.allCached && memory.modules.map(\.metrics) == first.modules.map(\.metrics))

    // A second cache over the same directory (a restarted server) reads the files.
    let restarted = BaseSpectrumCache(model: model, directory: directory)
    let disk = try #require(try BaseSpectrum.compute(modules: names, cache: restarted))
    #expect(disk.allCached && disk.modules.map(\.metrics) == first.modules.map(\.metrics))

    // Truncated, bit-flipped and garbage files are ignored, recomputed and rewritten.
    let url = try #require(try restarted.fileURL(of: names[0]))
    let good = try Data(contentsOf: url)
    for damaged in [good.prefix(good.count - 5), Data(good.enumerated().map { $0.offset == 50 ? $0.element ^ 1 : $0.element }), Data("junk".utf8)] {
        try damaged.write(to: url)
        let fresh = BaseSpectrumCache(model: model, directory: directory)
        let (values, cached) = try fresh.singularValues(of: names[0])
        #expect(!cached && values == first.modules[0].metrics.singularValues)
        #expect(try Data(contentsOf: url) == good)
    }
}

@Test func cacheKeyFollowsTheWeightsContent() throws {
    let copy = try Fixtures.scratchCopy(of: Fixtures.model("qwen2-tiny"))
    defer { try? FileManager.default.removeItem(at: copy) }
    let original = BaseSpectrumCache(model: try BaseModel.load(directory: copy), directory: nil)
    try Fixtures.rewriteTensors(at: copy.appendingPathComponent("model.safetensors")) { tensors in
        tensors["model.layers.0.self_attn.q_proj.weight"]!.values[0] += 0.25
    }
    let altered = BaseSpectrumCache(model: try BaseModel.load(directory: copy), directory: nil)
    #expect(try original.key(of: "model.layers.0.self_attn.q_proj") != altered.key(of: "model.layers.0.self_attn.q_proj"))
    #expect(try original.key(of: "model.layers.0.self_attn.k_proj") == altered.key(of: "model.layers.0.self_attn.k_proj"))
    #expect(try original.key(of: "model.layers.0.self_attn.k_proj") != original.key(of: "model.layers.1.self_attn.k_proj"))
}

@Test func computationStopsWhenAskedAndReportsProgress() throws {
    // What a disconnected SSE client triggers: shouldContinue turns false, nothing further is computed.
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let cache = BaseSpectrumCache(model: model, directory: nil)
    let names = model.linearModules.map(\.name)
    var progress: [(Int, Int, String)] = []
    let stopped = try BaseSpectrum.compute(modules: names, cache: cache, shouldContinue: { progress.count < 3 },
                                           progress: { progress.append(($0, $1, $2.name)) })
    #expect(stopped == nil)
    #expect(progress.map(\.0) == [1, 2, 3] && progress.allSatisfy { $0.1 == names.count })
    #expect(progress.map(\.2) == Array(names.prefix(3)))
    #expect(try cache.cachedSingularValues(of: names[2]) != nil && cache.cachedSingularValues(of: names[3]) == nil)
    // Jobs run through the caller's runner (the server's scheduler), one per uncached module.
    var jobs = 0
    let rest = try #require(try BaseSpectrum.compute(modules: names, cache: cache, run: { jobs += 1; return try $0() }))
    #expect(jobs == names.count - 3)
    #expect(rest.modules.prefix(3).allSatisfy(\.cached) && !rest.modules.dropFirst(3).contains { $0.cached })
}
