// A truncated adapter as PEFT files: allocate ranks, truncate every module, write config + weights.
import Adapters
import Foundation
import Formats
import LinearAlgebra
import Models

/// The PEFT files of `adapter` truncated for one allocation goal, and what was cut.
public struct TruncatedAdapterFiles: Sendable {
    public let allocation: RankAllocation
    /// Each module's rank before truncation, in module order.
    public let originalRanks: [Int]
    /// Σ r_m·(in + out) before and Σ k_m·(in + out) after (stored rank, ≥ 1 per module).
    public let parametersBefore: Int
    public let parametersAfter: Int
    public let configData: Data
    public let weightsData: [UInt8]

    /// - Parameters:
    ///   - configData: the adapter's own adapter_config.json; every field but r / rank_pattern /
    ///     alpha_pattern is kept.
    ///   - weights: its adapter_model.safetensors, for DoRA magnitudes copied unchanged.
    public init(adapter: LoRAAdapter, spectrum: AdapterSpectrum, configData: Data, weights: SafetensorsFile,
                goal: RankAllocation.Goal) throws {
        allocation = RankAllocation(spectrum: spectrum, goal: goal)
        let ranks = allocation.rankByModule
        var modules: [PEFTModuleWeights] = []
        for name in adapter.moduleNames {
            let update = adapter.updates[name]!
            let alpha = adapter.config.alpha(forModule: name)
            let t = try AdapterTruncation.truncate(update, rank: ranks[name] ?? update.rank, alpha: alpha,
                                                   rsLoRA: adapter.config.useRSLoRA)
            var magnitude: [Float]? = nil
            if update.doraRowScale != nil {
                magnitude = try weights.matrix("base_model.model.\(name).lora_magnitude_vector").storage
            }
            modules.append(PEFTModuleWeights(name: name, a: t.a, b: t.b, alpha: alpha, magnitude: magnitude))
        }
        originalRanks = adapter.moduleNames.map { adapter.updates[$0]!.rank }
        parametersBefore = adapter.moduleNames.reduce(0) { sum, name in
            let u = adapter.updates[name]!
            return sum + u.a.count + u.b.count
        }
        parametersAfter = modules.reduce(0) { $0 + $1.a.count + $1.b.count }
        self.configData = try PEFTAdapterWriter.config(original: configData, modules: modules, defaultAlpha: adapter.config.alpha)
        weightsData = try PEFTAdapterWriter.weights(modules)
    }
}
