// The spectrum of every update of an adapter, and a summary over modules.
//
// LoRA (Hu et al. 2021) updates are ΔW = s·B·A; their spectra come from the factors through
// LowRankSpectrum. DoRA (Liu et al. 2024) also rescales each output row of the merged weight,
// W' = diag(rowScale)·(W + s·B·A), so its full effective update
//
//     W' − W = diag(rowScale − 1)·W + diag(rowScale)·s·B·A
//
// involves the base weight and is not low-rank in general. That one is formed explicitly and
// given to a dense SVD: O(out·in·min(out, in)) per module, which is what the issue asks for and
// is fine for the modules DoRA adapters target, but it is the slow path.
import Adapters
import LinearAlgebra
import Models

/// One adapted module's update ΔW = s·B·A and its spectrum.
public struct ModuleSpectrum: Sendable {
    public let name: String
    public let shape: [Int]   // [out, in]
    public let rank: Int
    public let scaling: Float
    /// Metrics of σ(s·B·A), r values, descending.
    public let metrics: SpectrumMetrics
    /// DoRA only: singular values of the full effective update W' − W, with
    /// W' = diag(m/‖W + s·BA‖_row)·(W + s·BA); min(out, in) values. Computed densely (see above).
    public let effectiveSingularValues: [Float]?

    /// σ(s·B·A), descending.
    public var singularValues: [Float] { metrics.singularValues }
    /// Whether the module carries a DoRA magnitude, so `effectiveSingularValues` is set.
    public var isDoRA: Bool { effectiveSingularValues != nil }
    /// Parameters of the low-rank factors, r·(out + in) (DoRA magnitudes not counted).
    public var parameterCount: Int { rank * (shape[0] + shape[1]) }
}

/// Spectra of all of an adapter's modules, in the base model's module order.
public struct AdapterSpectrum: Sendable {
    public let modules: [ModuleSpectrum]
    public let isDoRA: Bool

    /// Computes every module's spectrum. `model` must be the base the adapter was validated
    /// against; it supplies the base weights DoRA's effective update needs. Truncation and sweeps only
    /// need σ(s·B·A) and pass `effectiveUpdates: false` to skip DoRA's dense SVDs.
    public init(adapter: LoRAAdapter, model: BaseModel, effectiveUpdates: Bool = true) throws {
        isDoRA = adapter.isDoRA
        modules = try adapter.moduleNames.map { name in
            let update = adapter.updates[name]!
            let shape = [update.b.rows, update.a.cols]   // [out, in]
            let sigma = try LowRankSpectrum.singularValues(b: update.b, a: update.a, scale: update.scale)
            var effective: [Float]? = nil
            if effectiveUpdates, update.doraRowScale != nil {
                guard let base = model.linear(named: name) else { throw DiagnosticsError.missingBaseWeight(module: name) }
                guard [base.outFeatures, base.inFeatures] == shape else {
                    throw DiagnosticsError.baseWeightShape(module: name, expected: shape, actual: [base.outFeatures, base.inFeatures])
                }
                effective = try Self.effectiveUpdate(base: base.weight, update: update).singularValues()
            }
            return ModuleSpectrum(name: name, shape: shape, rank: update.rank, scaling: update.scale,
                                  metrics: SpectrumMetrics(singularValues: sigma), effectiveSingularValues: effective)
        }
    }

    /// W' − W = diag(rowScale)·(W + s·B·A) − W, formed explicitly (out × in).
    static func effectiveUpdate(base w: Matrix, update: LoRAUpdate) -> Matrix {
        var difference = update.mergedWeight(onto: w)                                       // W'
        for i in difference.storage.indices { difference.storage[i] -= w.storage[i] }    // W' − W
        return difference
    }

    private init(modules: [ModuleSpectrum], isDoRA: Bool) {
        self.modules = modules
        self.isDoRA = isDoRA
    }

    /// The same spectrum restricted to the modules `isIncluded` accepts (e.g. a name filter).
    public func filter(_ isIncluded: (ModuleSpectrum) -> Bool) -> AdapterSpectrum {
        AdapterSpectrum(modules: modules.filter(isIncluded), isDoRA: isDoRA)
    }

    /// Mean of a per-module quantity (0 with no modules).
    public func mean(_ value: (ModuleSpectrum) -> Double) -> Double {
        modules.isEmpty ? 0 : modules.reduce(0) { $0 + value($1) } / Double(modules.count)
    }

    /// Averages over modules of σ(s·B·A)'s metrics.
    public struct Summary: Sendable, Equatable {
        public let moduleCount: Int
        /// Mean energy rank at each of `SpectrumMetrics.energyThresholds` (0.90, 0.95, 0.99).
        public let meanEnergyRank: [Double: Double]
        public let meanEntropyRank: Double
        public let meanStableRank: Double
        public let totalRank: Int
        /// Σ r·(out + in) over modules: the LoRA factors' parameters.
        public let totalParameters: Int
    }

    public var summary: Summary {
        Summary(
            moduleCount: modules.count,
            meanEnergyRank: Dictionary(uniqueKeysWithValues: SpectrumMetrics.energyThresholds.map { t in
                (t, mean { Double($0.metrics.energyRank(t)) })
            }),
            meanEntropyRank: mean(\.metrics.entropyRank),
            meanStableRank: mean(\.metrics.stableRank),
            totalRank: modules.reduce(0) { $0 + $1.rank },
            totalParameters: modules.reduce(0) { $0 + $1.parameterCount })
    }
}
