// The spectrum of every update of an adapter, and a summary over modules.
import Adapters
import LinearAlgebra
import Models

/// One adapted module's update ΔW = s·B·A and its spectrum.
public struct ModuleSpectrum: Sendable {
    public let name: String
    public let shape: [Int]   // [out, in]
    public let rank: Int
    public let scaling: Float
    public let metrics: SpectrumMetrics
    /// DoRA only: singular values of the full effective update W' − W, with
    /// W' = diag(m/‖W + s·BA‖_row)·(W + s·BA). Not low-rank in general, so computed densely.
    public let effectiveSingularValues: [Float]?
}

/// Spectra of all of an adapter's modules, in the base model's module order.
public struct AdapterSpectrum: Sendable {
    public let modules: [ModuleSpectrum]
    public let isDoRA: Bool

    public init(adapter: LoRAAdapter, model: BaseModel) throws {
        isDoRA = adapter.isDoRA
        modules = try adapter.moduleNames.map { name in
            let update = adapter.updates[name]!
            let sigma = try LowRankSpectrum.singularValues(b: update.b, a: update.a, scale: update.scale)
            var effective: [Float]? = nil
            if let rowScale = update.doraRowScale, let base = model.linear(named: name) {
                var merged = base.weight
                update.b.accumulateTimes(update.a, into: &merged, alpha: update.scale, beta: 1)
                merged.scaleRows(by: rowScale)
                for i in merged.storage.indices { merged.storage[i] -= base.weight.storage[i] }   // W' − W
                effective = try merged.singularValues()
            }
            return ModuleSpectrum(name: name, shape: [update.b.rows, update.a.cols], rank: update.rank,
                                  scaling: update.scale, metrics: SpectrumMetrics(singularValues: sigma),
                                  effectiveSingularValues: effective)
        }
    }

    /// Mean of a per-module quantity.
    public func mean(_ value: (ModuleSpectrum) -> Double) -> Double {
        modules.isEmpty ? 0 : modules.reduce(0) { $0 + value($1) } / Double(modules.count)
    }
}
