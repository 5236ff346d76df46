// Why an adapter directory or upload was refused.
import Formats

/// A refused adapter. Every case names the file, tensor or module at fault and says what was expected.
public enum AdapterError: Error, CustomStringConvertible {
    case missingConfig(String)
    case legacyPickleWeights(String)
    case missingWeights(String)
    case config(AdapterConfigError)
    case unexpectedTensor(String, reason: String)
    case unknownModule(String, tensor: String)
    case untargetedModule(String)
    case missingTensor(String)
    case tensorShape(String, expected: [Int], actual: [Int])
    case nonFiniteTensor(String)
    case tensorDType(String, String)

    public var description: String {
        switch self {
        case .missingConfig(let path): "adapter config not found: \(path)"
        case .legacyPickleWeights(let path):
            "\(path) is a legacy pickle checkpoint; save the adapter with safe_serialization=True (adapter_model.safetensors)"
        case .missingWeights(let path): "adapter weights not found: \(path)"
        case .config(let error): error.description
        case .unexpectedTensor(let name, let reason): "adapter tensor \(name) is not supported: \(reason)"
        case .unknownModule(let module, let tensor): "adapter tensor \(tensor) names module \(module), which the base model does not have as a linear layer"
        case .untargetedModule(let module): "adapter has weights for \(module), which its target_modules / layers_to_transform do not select"
        case .missingTensor(let name): "adapter lacks the tensor \(name)"
        case .tensorShape(let name, let expected, let actual): "adapter tensor \(name) has shape \(actual), expected \(expected)"
        case .nonFiniteTensor(let name): "adapter tensor \(name) holds NaN or infinite values"
        case .tensorDType(let name, let dtype): "adapter tensor \(name) has dtype \(dtype); expected F32, F16 or BF16"
        }
    }
}
