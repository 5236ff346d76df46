// Resolves a Llama-family config.json (Llama, Mistral, Qwen2) once, with defaults filled in as
// transformers' LlamaConfig, MistralConfig and Qwen2Config fill them.
import Formats

/// A decoder-only transformer's shape and options, resolved from `config.json`.
public struct DecoderConfig: Sendable, Equatable {
    public enum Family: String, Sendable { case llama, mistral, qwen2 }

    /// The most layers a config may declare.
    public static let maxLayers = 4096

    public let family: Family
    public let architecture: String
    public let vocabularySize: Int
    public let hiddenSize: Int
    public let intermediateSize: Int
    public let layerCount: Int
    public let headCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    public let activation: Activation
    public let rmsNormEps: Float
    public let ropeTheta: Double
    public let ropeScaling: RopeScaling
    public let maxPositions: Int
    public let tieWordEmbeddings: Bool
    /// Biases on q_proj, k_proj, v_proj.
    public let qkvBias: Bool
    /// Bias on o_proj (Llama's `attention_bias` covers it; Qwen2 has none).
    public let outputBias: Bool
    public let mlpBias: Bool
    /// The sliding window of each layer, nil for full causal attention.
    public let slidingWindows: [Int?]
    public let eosTokenIds: [Int]

    public init(_ file: ModelConfigFile) throws {
        let architecture = file.architectures?.first ?? file.modelType ?? "unknown"
        switch (file.modelType, architecture) {
        case ("llama", _), (_, "LlamaForCausalLM"): family = .llama
        case ("mistral", _), (_, "MistralForCausalLM"): family = .mistral
        case ("qwen2", _), (_, "Qwen2ForCausalLM"): family = .qwen2
        default: throw ModelError.unsupportedArchitecture(architecture)
        }
        self.architecture = architecture
        vocabularySize = try requiredPositive(file.vocabSize, "vocab_size")
        hiddenSize = try requiredPositive(file.hiddenSize, "hidden_size")
        intermediateSize = try requiredPositive(file.intermediateSize, "intermediate_size")
        layerCount = try requiredPositive(file.numHiddenLayers, "num_hidden_layers")
        // Every per-layer table is sized from this count, before any tensor is read: a header may not
        // claim more layers than any model has (Llama 3.1 405B has 126).
        guard layerCount <= Self.maxLayers else {
            throw ModelError.invalidConfig("num_hidden_layers \(layerCount) is over \(Self.maxLayers)")
        }
        headCount = try requiredPositive(file.numAttentionHeads, "num_attention_heads")
        kvHeadCount = try requiredPositive(file.numKeyValueHeads ?? file.numAttentionHeads, "num_key_value_heads")
        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidConfig("num_attention_heads \(headCount) is not a multiple of num_key_value_heads \(kvHeadCount)")
        }
        headDim = try requiredPositive(file.headDim ?? hiddenSize / headCount, "head_dim")
        guard headDim % 2 == 0 else { throw ModelError.invalidConfig("head_dim \(headDim) must be even for RoPE") }
        activation = try Activation(configName: file.hiddenAct ?? "silu")
        rmsNormEps = Float(file.rmsNormEps ?? 1e-6)
        maxPositions = file.maxPositionEmbeddings ?? 2048
        tieWordEmbeddings = file.tieWordEmbeddings ?? false
        switch family {
        case .llama:
            qkvBias = file.attentionBias ?? false
            outputBias = file.attentionBias ?? false
            mlpBias = file.mlpBias ?? false
        case .mistral:
            qkvBias = false; outputBias = false; mlpBias = false
        case .qwen2:
            qkvBias = true; outputBias = false; mlpBias = false
        }
        slidingWindows = try Self.slidingWindows(file, family: family, layers: layerCount)

        // RoPE: transformers 5 writes `rope_parameters`; Hub checkpoints have `rope_theta` + `rope_scaling`.
        let rope = file.ropeParameters ?? file.ropeScaling
        ropeTheta = file.ropeParameters?.ropeTheta ?? file.ropeTheta ?? 10_000
        let partial = rope?.partialRotaryFactor ?? file.partialRotaryFactor ?? 1
        guard partial == 1 else { throw ModelError.invalidConfig("partial_rotary_factor \(partial) is not supported (only 1.0)") }
        switch rope?.kind ?? "default" {
        case "default":
            ropeScaling = .none
        case "linear":
            guard let factor = rope?.factor else { throw ModelError.missingConfigField("rope_scaling.factor") }
            ropeScaling = .linear(factor: factor)
        case "llama3":
            guard let rope, let factor = rope.factor, let low = rope.lowFreqFactor, let high = rope.highFreqFactor,
                  let original = rope.originalMaxPositionEmbeddings ?? file.maxPositionEmbeddings else {
                throw ModelError.missingConfigField("rope_scaling: llama3 needs factor, low_freq_factor, high_freq_factor, original_max_position_embeddings")
            }
            guard high != low else { throw ModelError.invalidConfig("llama3 rope scaling needs high_freq_factor != low_freq_factor") }
            ropeScaling = .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: original)
        case let other:
            throw ModelError.unsupportedRopeScaling(other)
        }
        eosTokenIds = file.eosTokenId?.ids ?? []
    }

    private static func slidingWindows(_ file: ModelConfigFile, family: Family, layers: Int) throws -> [Int?] {
        switch family {
        case .llama:
            return Array(repeating: nil, count: layers)
        case .mistral:
            return Array(repeating: file.slidingWindow, count: layers)
        case .qwen2:
            // Qwen2Config: the window applies only with use_sliding_window, to layers ≥ max_window_layers,
            // unless layer_types names each layer's kind.
            let window = (file.useSlidingWindow ?? false) ? file.slidingWindow : nil
            if let types = file.layerTypes {
                guard types.count == layers else {
                    throw ModelError.invalidConfig("layer_types has \(types.count) entries for \(layers) layers")
                }
                return try types.map {
                    switch $0 {
                    case "full_attention": return nil
                    case "sliding_attention": return window
                    default: throw ModelError.invalidConfig("unknown layer type \($0)")
                    }
                }
            }
            let firstSliding = file.maxWindowLayers ?? 28
            return (0..<layers).map { window != nil && $0 >= firstSliding ? window : nil }
        }
    }

    /// The model's parameter count (embeddings, blocks, final norm, untied head).
    public var parameterCount: Int {
        let attention = hiddenSize * headDim * (2 * headCount + 2 * kvHeadCount)
            + (qkvBias ? headDim * (headCount + 2 * kvHeadCount) : 0) + (outputBias ? hiddenSize : 0)
        let mlp = 3 * hiddenSize * intermediateSize + (mlpBias ? 2 * intermediateSize + hiddenSize : 0)
        let block = attention + mlp + 2 * hiddenSize
        return vocabularySize * hiddenSize * (tieWordEmbeddings ? 1 : 2) + layerCount * block + hiddenSize
    }
}
