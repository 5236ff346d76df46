// A PEFT LoRA / DoRA adapter, read from the files PEFT saves and validated against a base model.
// Hu et al. 2021 (LoRA), Kalajdzievski 2023 (rsLoRA), Liu et al. 2024 (DoRA); key layout and
// semantics follow peft's tuners/lora (layer.py, dora.py) and utils/save_and_load.py.
import Foundation
import Formats
import LinearAlgebra
import Models

/// The low-rank update of one linear module: `ΔW = scale · B · A`.
public struct LoRAUpdate: Sendable {
    public let a: Matrix        // (r, in)
    public let b: Matrix        // (out, r)
    public let scale: Float     // alpha / r, or alpha / sqrt(r) with rsLoRA, after patterns
    /// DoRA only: `m / ‖W + scale·B·A‖_row`, the factor PEFT applies to each output row (out).
    public let doraRowScale: [Float]?

    public init(a: Matrix, b: Matrix, scale: Float, doraRowScale: [Float]?) {
        precondition(a.rows == b.cols, "A is \(a.shape), B is \(b.shape): inner ranks differ")
        self.a = a
        self.b = b
        self.scale = scale
        self.doraRowScale = doraRowScale
    }

    public var rank: Int { a.rows }
    public var parameterCount: Int { a.count + b.count + (doraRowScale?.count ?? 0) }

    /// `W + scale·B·A` for a base weight `w` (out × in): one GEMM into a copy; `w` is not written.
    public func added(to w: Matrix) -> Matrix {
        var sum = w   // copy-on-write: the GEMM's write copies, the base stays untouched
        b.accumulateTimes(a, into: &sum, alpha: scale, beta: 1)
        return sum
    }

    /// The weight PEFT's merge produces: `W + s·B·A`, each row scaled by DoRA's factor when present.
    public func mergedWeight(onto w: Matrix) -> Matrix {
        var merged = added(to: w)
        if let doraRowScale { merged.scaleRows(by: doraRowScale) }
        return merged
    }
}

/// A validated adapter: its resolved config and one update per targeted module.
public final class LoRAAdapter: Sendable {
    public let config: AdapterConfig
    /// Updates by Hugging Face module path, e.g. `model.layers.0.self_attn.q_proj`.
    public let updates: [String: LoRAUpdate]

    /// Module paths in the base model's order.
    public let moduleNames: [String]
    /// Each of `moduleNames`' index in the base model's `linearModules`, resolved at load.
    public let moduleIndices: [Int]
    /// How many linear modules the base model has.
    public let modelModuleCount: Int
    /// The base model's groups of modules that read the same input, where this adapter has several.
    public let inputGroups: [[Int]]

    public var isDoRA: Bool { config.useDoRA }
    public var parameterCount: Int { updates.values.reduce(0) { $0 + $1.parameterCount } }
    public var byteCount: Int { parameterCount * MemoryLayout<Float>.size }

    /// Reads `adapter_config.json` and `adapter_model.safetensors` from a PEFT adapter directory.
    public convenience init(directory: URL, model: BaseModel, maxRank: Int = AdapterConfig.defaultMaxRank) throws {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let configData = try? Data(contentsOf: configURL) else { throw AdapterError.missingConfig(configURL.path) }
        let weightsURL = directory.appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let legacy = directory.appendingPathComponent("adapter_model.bin")
            if FileManager.default.fileExists(atPath: legacy.path) { throw AdapterError.legacyPickleWeights(legacy.path) }
            throw AdapterError.missingWeights(weightsURL.path)
        }
        let config: AdapterConfig
        do {
            config = try AdapterConfig(jsonData: configData, source: configURL.path, maxRank: maxRank)
        } catch let error as AdapterConfigError {
            throw AdapterError.config(error)
        }
        try self.init(config: config, weights: try SafetensorsFile(contentsOf: weightsURL), model: model)
    }

    /// An adapter from updates built in memory (e.g. a truncation of another adapter). Each update
    /// carries its own rank and scale; `config` supplies `useDoRA` and what the adapter was read from.
    /// `moduleNames` is the base model's order, `moduleIndices` their places among its `modelModuleCount` modules.
    public init(config: AdapterConfig, updates: [String: LoRAUpdate], moduleNames: [String], moduleIndices: [Int], modelModuleCount: Int,
                inputGroups: [[Int]] = []) {
        precondition(Set(moduleNames) == Set(updates.keys), "moduleNames must name exactly the updates")
        precondition(moduleIndices.count == moduleNames.count && moduleIndices.allSatisfy { (0..<modelModuleCount).contains($0) })
        self.config = config
        self.updates = updates
        self.moduleNames = moduleNames
        self.moduleIndices = moduleIndices
        self.modelModuleCount = modelModuleCount
        self.inputGroups = Self.groups(inputGroups, among: moduleIndices)
    }

    /// Validates `weights` (PEFT's state dict) against `config` and `model`, then builds the updates.
    public init(config: AdapterConfig, weights: SafetensorsFile, model: BaseModel) throws {
        self.config = config
        let shapes = Dictionary(uniqueKeysWithValues: model.linearModules.map { ($0.name, $0) })
        let targeted: Set<String>
        do {
            targeted = Set(try config.targetedModules(
                among: model.linearModules.map(\.name), outputLayer: model.outputLayerName,
                otherModules: model.otherModuleNames, modelType: model.modelType))
        } catch let error as AdapterConfigError {
            throw AdapterError.config(error)
        }

        // Sort every tensor into its module and part: base_model.model.<module>.<part>.
        var tensors: [String: [Part: String]] = [:]
        for name in weights.tensorNames {
            let (module, part) = try Self.split(name, dora: config.useDoRA)
            guard shapes[module] != nil else { throw AdapterError.unknownModule(module, tensor: name) }
            guard targeted.contains(module) else { throw AdapterError.untargetedModule(module) }
            tensors[module, default: [:]][part] = name
        }

        var updates: [String: LoRAUpdate] = [:]
        for module in targeted {
            let info = shapes[module]!
            let rank = config.rank(forModule: module)
            let parts = tensors[module] ?? [:]
            func tensor(_ part: Part, rows: Int, cols: Int) throws -> Matrix {
                let key = parts[part] ?? "base_model.model.\(module).\(part.rawValue)"
                guard parts[part] != nil else { throw AdapterError.missingTensor(key) }
                guard let info = weights.info(key) else { throw AdapterError.missingTensor(key) }
                let expected = rows == 1 && part == .magnitude ? [cols] : [rows, cols]
                guard info.shape == expected else { throw AdapterError.tensorShape(key, expected: expected, actual: info.shape) }
                guard SafetensorsDType.convertibleToFloat.contains(info.dtype) else { throw AdapterError.tensorDType(key, info.dtype.rawValue) }
                let m = try weights.matrix(key)
                guard m.isFinite else { throw AdapterError.nonFiniteTensor(key) }
                return m
            }
            let a = try tensor(.a, rows: rank, cols: info.inFeatures)
            let b = try tensor(.b, rows: info.outFeatures, cols: rank)
            let scale = config.scale(forModule: module)
            var rowScale: [Float]? = nil
            if config.useDoRA {
                // DoRA's factor m / ‖W + s·B·A‖_row, with the norm of the merged weight as peft's
                // DoraLinearLayer.get_weight_norm takes it; computed once, as the weights are frozen.
                let magnitude = try tensor(.magnitude, rows: 1, cols: info.outFeatures).storage
                let norms = LoRAUpdate(a: a, b: b, scale: scale, doraRowScale: nil)
                    .added(to: model.linear(named: module)!.weight).rowNorms()
                rowScale = zip(magnitude, norms).map { $0 / $1 }
            }
            updates[module] = LoRAUpdate(a: a, b: b, scale: scale, doraRowScale: rowScale)
        }
        self.updates = updates
        let all = model.linearModules.map(\.name)
        self.moduleIndices = all.indices.filter { updates[all[$0]] != nil }
        self.moduleNames = moduleIndices.map { all[$0] }
        self.modelModuleCount = all.count
        self.inputGroups = Self.groups(model.sharedInputGroups, among: moduleIndices)
    }

    /// The groups with at least two of `indices`, restricted to them.
    private static func groups(_ groups: [[Int]], among indices: [Int]) -> [[Int]] {
        let present = Set(indices)
        return groups.map { $0.filter(present.contains) }.filter { $0.count > 1 }
    }

    /// The parts of a module PEFT saves.
    enum Part: String {
        case a = "lora_A.weight", b = "lora_B.weight", magnitude = "lora_magnitude_vector"
    }

    /// Splits `base_model.model.<module>.<part>` into module path and part.
    private static func split(_ name: String, dora: Bool) throws -> (String, Part) {
        let prefix = "base_model.model."
        guard name.hasPrefix(prefix) else {
            throw AdapterError.unexpectedTensor(name, reason: "PEFT adapter tensors start with \(prefix)")
        }
        let path = name.dropFirst(prefix.count)
        for part in [Part.a, .b, .magnitude] where path.hasSuffix("." + part.rawValue) {
            if part == .magnitude && !dora {
                throw AdapterError.unexpectedTensor(name, reason: "a DoRA magnitude vector in an adapter whose config has use_dora false")
            }
            return (String(path.dropLast(part.rawValue.count + 1)), part)
        }
        let reason: String
        if path.hasSuffix(".lora_B.bias") {
            reason = "lora_bias is not supported"
        } else if path.contains("lora_embedding_") {
            reason = "LoRA on embedding layers is not supported"
        } else {
            reason = "expected lora_A.weight, lora_B.weight or lora_magnitude_vector (modules_to_save and trained biases are not supported)"
        }
        throw AdapterError.unexpectedTensor(name, reason: reason)
    }
}
