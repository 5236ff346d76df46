// Resolves a BERT config.json once, with transformers' BertConfig defaults.
import Formats

/// A BERT-family encoder's shape and options, resolved from `config.json`.
public struct EncoderConfig: Sendable, Equatable {
    public let architecture: String
    public let vocabularySize: Int
    public let hiddenSize: Int
    public let intermediateSize: Int
    public let layerCount: Int
    public let headCount: Int
    public let activation: Activation
    public let layerNormEps: Float
    public let maxPositions: Int
    public let typeVocabularySize: Int

    public init(_ file: ModelConfigFile) throws {
        let architecture = file.architectures?.first ?? file.modelType ?? "unknown"
        guard file.modelType == "bert" || architecture.hasPrefix("Bert") else {
            throw ModelError.unsupportedArchitecture(architecture)
        }
        self.architecture = architecture
        vocabularySize = try requiredPositive(file.vocabSize, "vocab_size")
        hiddenSize = try requiredPositive(file.hiddenSize, "hidden_size")
        intermediateSize = try requiredPositive(file.intermediateSize, "intermediate_size")
        layerCount = try requiredPositive(file.numHiddenLayers, "num_hidden_layers")
        headCount = try requiredPositive(file.numAttentionHeads, "num_attention_heads")
        guard hiddenSize % headCount == 0 else {
            throw ModelError.invalidConfig("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        activation = try Activation(configName: file.hiddenAct ?? "gelu")
        layerNormEps = Float(file.layerNormEps ?? 1e-12)
        maxPositions = file.maxPositionEmbeddings ?? 512
        typeVocabularySize = file.typeVocabSize ?? 2
        let positions = file.positionEmbeddingType ?? "absolute"
        guard positions == "absolute" else {
            throw ModelError.invalidConfig("position_embedding_type \(positions) is not supported (only absolute)")
        }
    }

    public var headDim: Int { hiddenSize / headCount }

    /// Parameters of embeddings and encoder blocks (the pooler, when present, is not counted).
    public var parameterCount: Int {
        let d = hiddenSize, f = intermediateSize
        let embeddings = (vocabularySize + maxPositions + typeVocabularySize) * d + 2 * d
        let block = 4 * (d * d + d) + 2 * d + (d * f + f) + (f * d + d) + 2 * d
        return embeddings + layerCount * block
    }
}
