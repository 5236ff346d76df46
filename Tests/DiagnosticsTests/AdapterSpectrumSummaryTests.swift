// The per-module fields and the summary over modules of an adapter's spectrum.
import Adapters
import Diagnostics
import FixtureSupport
import LinearAlgebra
import Models
import Testing

@Test func moduleFieldsDescribeTheUpdate() throws {
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    #expect(spectrum.modules.map(\.name) == adapter.moduleNames)
    for module in spectrum.modules {
        let update = adapter.updates[module.name]!
        #expect(module.shape == [update.b.rows, update.a.cols])
        #expect(module.rank == update.rank && module.scaling == update.scale)
        #expect(module.singularValues.count == update.rank)
        #expect(module.singularValues == module.singularValues.sorted(by: >))
        #expect(module.parameterCount == update.a.count + update.b.count)
    }
}

@Test func summaryAveragesOverModules() throws {
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-rslora-patterns"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    let summary = spectrum.summary
    let count = Double(spectrum.modules.count)
    #expect(summary.moduleCount == spectrum.modules.count)
    for t in SpectrumMetrics.energyThresholds {
        let expected = spectrum.modules.reduce(0.0) { $0 + Double($1.metrics.energyRank(t)) } / count
        #expect(abs(summary.meanEnergyRank[t]! - expected) < 1e-12)
    }
    #expect(summary.meanEnergyRank[0.90]! <= summary.meanEnergyRank[0.95]!)
    #expect(summary.meanEnergyRank[0.95]! <= summary.meanEnergyRank[0.99]!)
    #expect(abs(summary.meanEntropyRank - spectrum.modules.reduce(0.0) { $0 + $1.metrics.entropyRank } / count) < 1e-12)
    #expect(abs(summary.meanStableRank - spectrum.modules.reduce(0.0) { $0 + $1.metrics.stableRank } / count) < 1e-12)
    #expect(summary.totalParameters == adapter.updates.values.reduce(0) { $0 + $1.a.count + $1.b.count })
    #expect(summary.totalRank == adapter.updates.values.reduce(0) { $0 + $1.rank })
}
