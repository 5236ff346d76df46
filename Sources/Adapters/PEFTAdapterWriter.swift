// Writing an adapter in PEFT's own format: adapter_config.json + adapter_model.safetensors.
//
// Per-module ranks go through `rank_pattern` and per-module alphas through `alpha_pattern`, keyed by
// the module's full path with regex metacharacters escaped (`model\.layers\.0\.self_attn\.q_proj`).
// peft 0.21.2 resolves a module by `re.match(rf"(.*\.)?({key})$", path)` over the keys in order, and
// Eckart's `AdapterConfig` does the same; a full, escaped path matches exactly one module (a short
// key such as `q_proj` would match one in every layer, and an unescaped `.` would match any
// character). Every other field of the original config is kept as it was; the original
// rank_pattern / alpha_pattern are replaced because the new keys say everything per module.
import Foundation
import Formats
import LinearAlgebra

/// One module's tensors as PEFT saves them.
public struct PEFTModuleWeights: Sendable {
    /// Hugging Face module path, e.g. `model.layers.0.self_attn.q_proj`.
    public let name: String
    public let a: Matrix            // (r, in)  → lora_A.weight
    public let b: Matrix            // (out, r) → lora_B.weight
    /// The module's lora_alpha (written to alpha_pattern when it differs from the config's lora_alpha).
    public let alpha: Double
    /// DoRA only: lora_magnitude_vector (out).
    public let magnitude: [Float]?

    public init(name: String, a: Matrix, b: Matrix, alpha: Double, magnitude: [Float]?) {
        precondition(a.rows == b.cols, "A is \(a.shape), B is \(b.shape): inner ranks differ")
        self.name = name
        self.a = a
        self.b = b
        self.alpha = alpha
        self.magnitude = magnitude
    }

    public var rank: Int { a.rows }
}

public enum PEFTAdapterWriter {
    /// The pattern key that matches exactly `module` under peft's and Eckart's rule (see the header).
    public static func patternKey(for module: String) -> String {
        var key = ""
        for character in module {
            if #"\.^$*+?{}[]|()"#.contains(character) { key.append("\\") }
            key.append(character)
        }
        return key
    }

    /// The most common rank among `ranks` (ties go to the larger rank): the config's `r`, so the
    /// fewest modules need a rank_pattern entry.
    public static func commonRank(_ ranks: [Int]) -> Int {
        let counts = Dictionary(ranks.map { ($0, 1) }, uniquingKeysWith: +)
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }?.key ?? 1
    }

    /// `original` (adapter_config.json) with `r` set to the most common rank of `modules` and
    /// rank_pattern / alpha_pattern naming each module that differs from `r` / `defaultAlpha`
    /// (the original's resolved lora_alpha), as compact JSON.
    public static func config(original: Data, modules: [PEFTModuleWeights], defaultAlpha: Double) throws -> Data {
        guard case .object(var object) = try JSONValue.parse(original) else {
            throw AdapterError.config(.malformedJSON(source: "adapter_config.json", detail: "the top-level value is not an object"))
        }
        let r = commonRank(modules.map(\.rank))
        object["r"] = .number(JSONNumber(r))
        object["rank_pattern"] = .object(JSONObject(uniqueKeysWithValues: modules.filter { $0.rank != r }.map {
            (patternKey(for: $0.name), JSONValue.number(JSONNumber($0.rank)))
        }))
        object["alpha_pattern"] = .object(JSONObject(uniqueKeysWithValues: modules.filter { $0.alpha != defaultAlpha }.map {
            (patternKey(for: $0.name), JSONValue.number(Self.number($0.alpha)))
        }))
        return Data(JSONValue.object(object).serializedBytes())
    }

    /// Integral alphas as integers (as peft's JSON has them), others as doubles.
    private static func number(_ x: Double) -> JSONNumber {
        if x.rounded() == x, abs(x) < 1e15 { return JSONNumber(Int(x)) }
        return JSONNumber(x)
    }

    /// adapter_model.safetensors: `base_model.model.<module>.lora_A.weight` / `lora_B.weight` /
    /// `lora_magnitude_vector`, F32, with peft's `{"format": "pt"}` metadata.
    public static func weights(_ modules: [PEFTModuleWeights]) throws -> [UInt8] {
        var tensors: [SafetensorsWriter.Tensor] = []
        for module in modules {
            let prefix = "base_model.model.\(module.name)."
            tensors.append(.init(name: prefix + "lora_A.weight", shape: module.a.shape, values: module.a.storage))
            tensors.append(.init(name: prefix + "lora_B.weight", shape: module.b.shape, values: module.b.storage))
            if let magnitude = module.magnitude {
                tensors.append(.init(name: prefix + "lora_magnitude_vector", shape: [magnitude.count], values: magnitude))
            }
        }
        return try SafetensorsWriter.serialize(tensors, metadata: ["format": "pt"])
    }
}
