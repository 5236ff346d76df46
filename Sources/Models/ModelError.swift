// Errors from reading a base model directory or running it.

/// Why a model could not be loaded or run. Each case names the file, tensor or field at fault.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case notADirectory(String)
    case noWeights(String)
    case shardIndexMalformed(String, String)
    case unsupportedArchitecture(String)
    case missingConfigField(String)
    case invalidConfig(String)
    case unsupportedRopeScaling(String)
    case unsupportedActivation(String)
    case missingTensor(String)
    case duplicateTensor(String, [String])
    case unusedTensors([String])
    case tensorShape(String, expected: [Int], actual: [Int])
    case nonFiniteTensor(String)
    /// A GGUF file the reader refused (the message names the file and the field).
    case invalidGGUF(String)
    /// A GGUF tensor in a ggml type Eckart does not compute with.
    case unsupportedTensorType(String, type: String)
    case tokenOutOfRange(Int, vocabularySize: Int)
    case sequenceTooLong(Int, maximum: Int)
    case emptyInput
    case attentionMaskLength(Int, tokens: Int)

    public var description: String {
        switch self {
        case .notADirectory(let path): "model path is not a directory: \(path)"
        case .noWeights(let path): "no *.safetensors weights in \(path) (legacy pytorch_model.bin is not supported)"
        case .shardIndexMalformed(let path, let why): "shard index \(path) is malformed: \(why)"
        case .unsupportedArchitecture(let name): "unsupported architecture \(name); supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, BertModel"
        case .missingConfigField(let field): "config.json lacks the required field \(field)"
        case .invalidConfig(let why): "config.json is invalid: \(why)"
        case .unsupportedRopeScaling(let kind): "unsupported rope scaling \(kind); supported: default, linear, llama3"
        case .unsupportedActivation(let name): "unsupported activation \(name); supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu"
        case .missingTensor(let name): "weights lack the tensor \(name)"
        case .duplicateTensor(let name, let files): "tensor \(name) appears in more than one shard: \(files.joined(separator: ", "))"
        case .unusedTensors(let names): "weights hold tensors the architecture does not use: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? " and \(names.count - 8) more" : "")"
        case .tensorShape(let name, let expected, let actual): "tensor \(name) has shape \(actual), expected \(expected)"
        case .invalidGGUF(let why): why
        case .unsupportedTensorType(let name, let type):
            "tensor \(name) is stored as \(type), which Eckart does not compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)"
        case .nonFiniteTensor(let name): "tensor \(name) holds NaN or infinite values"
        case .tokenOutOfRange(let id, let vocab): "token id \(id) is outside the vocabulary [0, \(vocab))"
        case .sequenceTooLong(let n, let maximum): "sequence of \(n) positions exceeds the model's maximum of \(maximum)"
        case .emptyInput: "no tokens given"
        case .attentionMaskLength(let n, let tokens): "attention mask has \(n) entries for \(tokens) tokens"
        }
    }
}

/// A config.json size field that must be present and positive.
func requiredPositive(_ value: Int?, _ field: String) throws -> Int {
    guard let value else { throw ModelError.missingConfigField(field) }
    guard value > 0 else { throw ModelError.invalidConfig("\(field) must be positive, got \(value)") }
    return value
}
