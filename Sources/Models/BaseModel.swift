// The registry: reads config.json and loads the architecture it names.
import Foundation
import Formats
import LinearAlgebra

/// A loaded base model of any supported architecture.
public enum BaseModel: Sendable {
    case decoder(DecoderModel)
    case encoder(EncoderModel)

    /// Loads the model in a Hugging Face directory (`config.json` + `*.safetensors`). With
    /// `quantization`, the weights of its linear layers (and a decoder's token embedding) are quantized
    /// to that block type as they load, QLoRA-style; the float32 originals stay mapped, not loaded.
    public static func load(directory: URL, quantization: QuantizationType? = nil) throws -> BaseModel {
        let file = try ModelConfigFile.load(fromDirectory: directory)
        return try load(config: file, weights: {
            let weights = try WeightSet(directory: directory)
            weights.quantization = quantization
            return weights
        }, pooling: { try SentencePooling(directory: directory) })
    }

    /// Builds a model from a decoded config and tensors already in memory.
    public static func load(config: ModelConfigFile, tensors: [SafetensorsFile],
                            pooling: SentencePooling = SentencePooling(mode: .mean, normalize: false)) throws -> BaseModel {
        try load(config: config, weights: { try WeightSet(files: tensors) }, pooling: { pooling })
    }

    private static func load(config file: ModelConfigFile, weights: () throws -> WeightSet,
                             pooling: () throws -> SentencePooling) throws -> BaseModel {
        switch file.modelType ?? "" {
        case "llama", "mistral", "qwen2":
            let config = try DecoderConfig(file)
            return .decoder(try DecoderModel(config: config, weights: try weights()))
        case "bert":
            let config = try EncoderConfig(file)
            return .encoder(try EncoderModel(config: config, pooling: try pooling(), weights: try weights()))
        default:
            throw ModelError.unsupportedArchitecture(file.architectures?.first ?? file.modelType ?? "unknown")
        }
    }

    /// Every linear module an adapter may target, with its shape.
    public var linearModules: [LinearModuleInfo] {
        switch self {
        case .decoder(let m): m.linearModules
        case .encoder(let m): m.linearModules
        }
    }

    /// The base linear layer at a module path.
    /// Groups of linear modules that read the same input (indices into `linearModules`).
    public var sharedInputGroups: [[Int]] {
        switch self {
        case .decoder(let m): m.sharedInputGroups
        case .encoder(let m): m.sharedInputGroups
        }
    }

    /// For a model quantized at load, the float32 weights its quantized ones were made from.
    public var originalWeights: OriginalWeights? {
        switch self {
        case .decoder(let m): m.originalWeights
        case .encoder(let m): m.originalWeights
        }
    }

    public func linear(named name: String) -> Linear? {
        switch self {
        case .decoder(let m): m.linear(named: name)
        case .encoder(let m): m.linear(named: name)
        }
    }

    /// config.json's `model_type` (PEFT picks default targets by it).
    public var modelType: String {
        switch self {
        case .decoder(let m): m.config.family.rawValue
        case .encoder: "bert"
        }
    }

    /// Module paths that are not linear layers (containers, embeddings, norms): targets that match
    /// one of these are refused by name rather than silently ignored.
    public var otherModuleNames: [String] {
        switch self {
        case .decoder(let m):
            let layers = (0..<m.config.layerCount).flatMap { i in
                ["", ".self_attn", ".mlp", ".input_layernorm", ".post_attention_layernorm"].map { "model.layers.\(i)" + $0 }
            }
            return ["model", "model.embed_tokens", "model.layers", "model.norm", "model.rotary_emb"] + layers
        case .encoder(let m):
            let p = m.linearModules.first?.name.hasPrefix("bert.") == true ? "bert." : ""
            let layers = (0..<m.config.layerCount).flatMap { i in
                ["", ".attention", ".attention.self", ".attention.output", ".attention.output.LayerNorm",
                 ".intermediate", ".output", ".output.LayerNorm"].map { "\(p)encoder.layer.\(i)" + $0 }
            }
            let embeddings = ["", ".word_embeddings", ".position_embeddings", ".token_type_embeddings", ".LayerNorm"]
                .map { "\(p)embeddings" + $0 }
            return embeddings + ["\(p)encoder", "\(p)encoder.layer"] + layers + (m.pooler != nil ? ["\(p)pooler"] : [])
        }
    }

    /// The module PEFT's "all-linear" shorthand leaves out: the output layer.
    public var outputLayerName: String? {
        switch self {
        case .decoder: "lm_head"
        case .encoder: nil
        }
    }

    public var architecture: String {
        switch self {
        case .decoder(let m): m.config.architecture
        case .encoder(let m): m.config.architecture
        }
    }

    public var parameterCount: Int {
        switch self {
        case .decoder(let m): m.config.parameterCount
        case .encoder(let m): m.config.parameterCount + (m.pooler.map { $0.inFeatures * $0.outFeatures + $0.outFeatures } ?? 0)
        }
    }
}
