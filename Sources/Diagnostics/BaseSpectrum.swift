// The spectrum of the frozen base weights W, per linear module (full SVD through LAPACK, cached by
// content in BaseSpectrumCache), and the classic table of how many singular directions each kind of
// projection needs for 90 / 95 / 99 % of its energy ‖W‖²_F.
import Foundation
import Models

/// One base module's σ(W) and its metrics.
public struct BaseModuleSpectrum: Sendable {
    public let name: String
    public let shape: [Int]   // [out, in]
    /// σ(W), min(out, in) values, descending, with the metrics the adapter spectra report.
    public let metrics: SpectrumMetrics
    /// Whether σ came from the memory or disk cache instead of a new SVD.
    public let cached: Bool
    /// The projection this module is grouped under in the table (see `BaseSpectrum.projections`).
    public let projection: String

    public init(name: String, shape: [Int], metrics: SpectrumMetrics, cached: Bool, projection: String) {
        self.name = name
        self.shape = shape
        self.metrics = metrics
        self.cached = cached
        self.projection = projection
    }

    /// min(out, in): the rank W could have.
    public var fullRank: Int { shape.min() ?? 0 }
}

/// One row of the table: the modules of one projection kind, averaged.
public struct ProjectionRow: Sendable, Equatable {
    public let projection: String
    public let moduleCount: Int
    /// The largest min(out, in) of the group (all modules of a projection share a shape in the
    /// supported architectures).
    public let fullRank: Int
    /// Mean energy rank at each of `SpectrumMetrics.energyThresholds`.
    public let meanEnergyRank: [Double: Double]
    /// Mean of energy rank / min(out, in) per module; equals meanEnergyRank / fullRank when the
    /// group's shapes agree.
    public let meanEnergyRankFraction: [Double: Double]
}

/// The base spectra of a set of modules, with the table and a summary.
public struct BaseSpectrum: Sendable {
    public let modules: [BaseModuleSpectrum]

    public init(modules: [BaseModuleSpectrum]) {
        self.modules = modules
    }

    /// Whether every module came from a cache.
    public var allCached: Bool { modules.allSatisfy(\.cached) }

    /// Computes (or reads from `cache`) the spectrum of each named module in order, calling
    /// `progress(done, total, module)` after each. `shouldContinue` is asked before each module;
    /// returning false stops early and returns nil (a client that went away).
    public static func compute(
        modules names: [String], cache: BaseSpectrumCache,
        run: (() throws -> (values: [Float], cached: Bool)) throws -> (values: [Float], cached: Bool) = { try $0() },
        shouldContinue: () -> Bool = { true },
        progress: (Int, Int, BaseModuleSpectrum) -> Void = { _, _, _ in }
    ) throws -> BaseSpectrum? {
        let projection = projections(of: cache.model.linearModules.map(\.name))
        var done: [BaseModuleSpectrum] = []
        for name in names {
            guard shouldContinue() else { return nil }
            guard let linear = cache.model.linear(named: name) else { throw DiagnosticsError.missingBaseWeight(module: name) }
            let sigma: (values: [Float], cached: Bool)
            if let hit = try cache.cachedSingularValues(of: name) {
                sigma = (hit, true)
            } else {
                sigma = try run { try cache.singularValues(of: name) }
            }
            let module = BaseModuleSpectrum(name: name, shape: linear.weight.shape, metrics: SpectrumMetrics(singularValues: sigma.values),
                                            cached: sigma.cached, projection: projection[name] ?? name)
            done.append(module)
            progress(done.count, names.count, module)
        }
        return BaseSpectrum(modules: done)
    }

    /// Groups module names into projection kinds: the name's last component (`q_proj`, `query`),
    /// unless several different in-layer paths end in it (BERT's `dense`), in which case the path
    /// below the layer index (`attention.output.dense`, `intermediate.dense`, `output.dense`).
    /// Modules outside numbered layers (e.g. `lm_head`, `pooler.dense`) keep their full name when
    /// their last component is ambiguous.
    public static func projections(of names: [String]) -> [String: String] {
        func inLayer(_ name: String) -> String {
            let parts = name.split(separator: ".")
            if let index = parts.lastIndex(where: { Int($0) != nil }), index + 1 < parts.count,
               index > 0, ["layer", "layers", "h", "blocks"].contains(String(parts[index - 1])) {
                return parts[(index + 1)...].joined(separator: ".")
            }
            return name
        }
        var pathsByLast: [String: Set<String>] = [:]
        for name in names { pathsByLast[String(name.split(separator: ".").last ?? ""), default: []].insert(inLayer(name)) }
        var result: [String: String] = [:]
        for name in names {
            let last = String(name.split(separator: ".").last ?? "")
            result[name] = pathsByLast[last]!.count > 1 ? inLayer(name) : last
        }
        return result
    }

    /// One row per projection kind, in order of first appearance.
    public var table: [ProjectionRow] {
        var order: [String] = []
        var groups: [String: [BaseModuleSpectrum]] = [:]
        for module in modules {
            if groups[module.projection] == nil { order.append(module.projection) }
            groups[module.projection, default: []].append(module)
        }
        return order.map { projection in
            let group = groups[projection]!
            func mean(_ value: (BaseModuleSpectrum) -> Double) -> Double { group.reduce(0) { $0 + value($1) } / Double(group.count) }
            return ProjectionRow(
                projection: projection, moduleCount: group.count, fullRank: group.map(\.fullRank).max() ?? 0,
                meanEnergyRank: Dictionary(uniqueKeysWithValues: SpectrumMetrics.energyThresholds.map { t in
                    (t, mean { Double($0.metrics.energyRank(t)) })
                }),
                meanEnergyRankFraction: Dictionary(uniqueKeysWithValues: SpectrumMetrics.energyThresholds.map { t in
                    (t, mean { $0.fullRank > 0 ? Double($0.metrics.energyRank(t)) / Double($0.fullRank) : 0 })
                }))
        }
    }

    /// Mean of a per-module quantity (0 with no modules).
    public func mean(_ value: (BaseModuleSpectrum) -> Double) -> Double {
        modules.isEmpty ? 0 : modules.reduce(0) { $0 + value($1) } / Double(modules.count)
    }

    /// Mean energy rank at each of `SpectrumMetrics.energyThresholds` over all modules.
    public var meanEnergyRank: [Double: Double] {
        Dictionary(uniqueKeysWithValues: SpectrumMetrics.energyThresholds.map { t in (t, mean { Double($0.metrics.energyRank(t)) }) })
    }
}
