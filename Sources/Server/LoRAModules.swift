// Adapters loaded at start, as vLLM's `--lora-modules name=path ...` (or its JSON form
// `{"name": ..., "path": ...}`): stored and registered before the server listens.
import Adapters
import Foundation
import HTTP

/// One `--lora-modules` argument.
public struct LoRAModule: Sendable, Hashable {
    public let name: String
    public let path: String

    /// Parses `name=path` or `{"name": "...", "path": "..."}` (vLLM's two forms; the JSON form's
    /// `base_model_name` is accepted and ignored, the base check runs on the adapter's own config).
    public init(parsing argument: String) throws {
        let name: String, path: String
        if argument.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(argument.utf8)) as? [String: Any],
                  let given = object["name"] as? String, let at = object["path"] as? String else {
                throw LoRAModuleError.malformed(argument)
            }
            (name, path) = (given, at)
        } else {
            guard let equals = argument.firstIndex(of: "=") else { throw LoRAModuleError.malformed(argument) }
            (name, path) = (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
        }
        guard !path.isEmpty else { throw LoRAModuleError.malformed(argument) }
        do {
            try AdapterStore.validate(id: name)
        } catch {
            throw LoRAModuleError.invalidName(argument, reason: "\(error)")
        }
        self.name = name
        self.path = path
    }
}

public enum LoRAModuleError: Error, CustomStringConvertible {
    case malformed(String)
    case invalidName(String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let argument):
            "--lora-modules \(argument): expected name=path or {\"name\": ..., \"path\": ...}"
        case .invalidName(let argument, let reason): "--lora-modules \(argument): \(reason)"
        }
    }
}

extension EckartServer {
    /// Stores and registers the PEFT directory `module.path` as `module.name`, replacing a stored
    /// adapter of that name (a restart with the same flags loads the same files again). The path is
    /// the operator's, so it is not confined to --adapter-root. Refused exactly as an upload is.
    public func preload(_ module: LoRAModule) throws {
        let directory = URL(fileURLWithPath: module.path, isDirectory: true)
        let config = directory.appendingPathComponent(AdapterStore.configFileName)
        let weights = directory.appendingPathComponent(AdapterStore.weightsFileName)
        let fm = FileManager.default
        guard fm.fileExists(atPath: config.path) else { throw AdapterError.missingConfig(config.path) }
        guard fm.fileExists(atPath: weights.path) else {
            let pickle = directory.appendingPathComponent("adapter_model.bin")
            if fm.fileExists(atPath: pickle.path) { throw AdapterError.legacyPickleWeights(pickle.path) }
            throw AdapterError.missingWeights(weights.path)
        }
        let configData = try Data(contentsOf: config)
        try checkBase(configData, allowMismatch: false)
        _ = try registry.put(id: module.name, configData: configData, weightsData: Data(contentsOf: weights, options: .alwaysMapped),
                             replace: true)
    }
}
