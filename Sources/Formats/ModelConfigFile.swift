// The Hugging Face `config.json` of a model directory, as written on the wire.
// Field names follow transformers' configuration classes (LlamaConfig, MistralConfig,
// Qwen2Config, BertConfig); `Models` resolves this into architecture configs with defaults filled in.
import Foundation

/// `config.json` exactly as stored. Every field is optional here; resolution decides what is required.
public struct ModelConfigFile: Decodable, Sendable {
    public var modelType: String?
    public var architectures: [String]?
    public var vocabSize: Int?
    public var hiddenSize: Int?
    public var intermediateSize: Int?
    public var numHiddenLayers: Int?
    public var numAttentionHeads: Int?
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var hiddenAct: String?
    public var maxPositionEmbeddings: Int?
    public var rmsNormEps: Double?
    public var layerNormEps: Double?
    public var ropeTheta: Double?
    public var ropeScaling: RopeParametersFile?
    /// transformers ≥ 5 writes RoPE settings here (`rope_type`, `rope_theta`, scaling fields).
    public var ropeParameters: RopeParametersFile?
    public var partialRotaryFactor: Double?
    public var tieWordEmbeddings: Bool?
    public var attentionBias: Bool?
    public var mlpBias: Bool?
    public var slidingWindow: Int?
    public var useSlidingWindow: Bool?
    public var maxWindowLayers: Int?
    public var layerTypes: [String]?
    public var typeVocabSize: Int?
    public var positionEmbeddingType: String?
    public var padTokenId: Int?
    public var bosTokenId: Int?
    public var eosTokenId: TokenIDs?
    public var torchDtype: String?
    /// Present in bitsandbytes, AWQ, GPTQ, … checkpoints, whose weights are packed tensors Eckart
    /// cannot read; `load` refuses them by method instead of failing later on a missing tensor.
    public var quantizationConfig: QuantizationConfigFile?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case layerNormEps = "layer_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case partialRotaryFactor = "partial_rotary_factor"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
        case typeVocabSize = "type_vocab_size"
        case positionEmbeddingType = "position_embedding_type"
        case padTokenId = "pad_token_id"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case torchDtype = "torch_dtype"
        case quantizationConfig = "quantization_config"
    }

    /// Reads and decodes `<directory>/config.json`.
    public static func load(fromDirectory directory: URL) throws -> ModelConfigFile {
        let url = directory.appendingPathComponent("config.json")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelConfigError.missingFile(url.path)
        }
        let config: ModelConfigFile
        do {
            config = try JSONDecoder().decode(ModelConfigFile.self, from: data)
        } catch let error as DecodingError {
            throw ModelConfigError.malformed(url.path, describe(error))
        }
        if let quantization = config.quantizationConfig {
            throw ModelConfigError.quantizedCheckpoint(url.path, method: quantization.quantMethod ?? "unnamed")
        }
        return config
    }
}

/// RoPE settings: the legacy `rope_scaling` object or transformers 5's `rope_parameters`.
public struct RopeParametersFile: Decodable, Sendable {
    public var ropeType: String?
    public var type: String?
    public var ropeTheta: Double?
    public var factor: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var originalMaxPositionEmbeddings: Int?
    public var partialRotaryFactor: Double?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case type
        case ropeTheta = "rope_theta"
        case factor
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case partialRotaryFactor = "partial_rotary_factor"
    }

    /// The scaling kind: `rope_type`, or the older `type` key.
    public var kind: String? { ropeType ?? type }
}

/// `eos_token_id` is an integer or a list of integers.
public struct TokenIDs: Decodable, Sendable, Equatable {
    public var ids: [Int]

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(Int.self) {
            ids = [one]
        } else {
            ids = try container.decode([Int].self)
        }
    }
}

/// `quantization_config`: only the method is read, to name it when refusing the checkpoint.
public struct QuantizationConfigFile: Decodable, Sendable {
    /// `bitsandbytes`, `awq`, `gptq`, `fp8`, …
    public var quantMethod: String?

    enum CodingKeys: String, CodingKey { case quantMethod = "quant_method" }
}

/// Problems reading a model's `config.json`.
public enum ModelConfigError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case malformed(String, String)
    /// The config declares a `quantization_config` (bitsandbytes, AWQ, GPTQ, …): the weights are packed
    /// in that method's layout, which Eckart does not read. Use the unquantized checkpoint or a GGUF.
    case quantizedCheckpoint(String, method: String)

    public var description: String {
        switch self {
        case .quantizedCheckpoint(let path, let method):
            "model config \(path) declares a \(method) quantized checkpoint (quantization_config); Eckart reads unquantized safetensors or GGUF files, not \(method) weights"

        case .missingFile(let path): "model config not found: \(path)"
        case .malformed(let path, let why): "model config \(path) is malformed: \(why)"
        }
    }
}

/// A one-line account of a `DecodingError` naming the JSON path.
fileprivate func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "<root>" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .typeMismatch(let type, let context): return "field \(path(context.codingPath)) is not \(type)"
    case .valueNotFound(let type, let context): return "field \(path(context.codingPath)) is null, expected \(type)"
    case .keyNotFound(let key, let context): return "missing field \(path(context.codingPath + [key]))"
    case .dataCorrupted(let context): return "\(context.debugDescription) at \(path(context.codingPath))"
    @unknown default: return "\(error)"
    }
}
