// Whether an adapter was trained for the base model being served. Shapes alone do not say: a
// Llama-style adapter loads onto a Qwen2 model of the same widths. The rule, deliberately tolerant:
//
// - names: adapter_config.json's `base_model_name_or_path` (a Hub id such as
//   "HuggingFaceTB/SmolLM2-135M-Instruct", a local path, or a Hub cache snapshot path) is reduced to
//   its model name (last path component; a snapshot's repository name), as is each name the served
//   model goes by (the served name and its directory's name). Compared case-insensitively, they
//   match when one is a prefix of the other ("qwen2-tiny" serves on "qwen2-tiny-f16",
//   "Qwen2.5-0.5B" on "Qwen2.5-0.5B-Instruct"), since variants of one checkpoint keep its name;
// - architecture: PEFT's `auto_mapping.base_model_class` (when written) names the base class; its
//   family (the part before "For…" / "Model": Llama, Qwen2, Bert) must equal the served one's;
// - a null or absent `base_model_name_or_path` passes, with a note saying nothing was checked.
//
// A mismatch refuses the adapter (409 naming both) unless the request says allow_base_mismatch.
import Foundation
import Formats
import HTTP

struct BaseModelCheck: Sendable {
    /// `base_model_name_or_path` as written, nil when null or absent.
    let adapterBase: String?
    /// `auto_mapping.base_model_class`, nil when absent.
    let adapterClass: String?
    let servedNames: [String]
    let servedArchitecture: String
    /// What disagrees, one sentence each; empty when the adapter fits.
    let mismatches: [String]

    init(configData: Data, servedNames: [String], servedArchitecture: String) {
        let config = try? JSONValue.parse(configData)
        adapterBase = config?["base_model_name_or_path"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        adapterClass = config?["auto_mapping"]?["base_model_class"]?.stringValue
        self.servedNames = servedNames
        self.servedArchitecture = servedArchitecture
        var mismatches: [String] = []
        if let adapterBase {
            let name = Self.modelName(adapterBase)
            let matches = servedNames.map(Self.modelName).contains { $0.hasPrefix(name) || name.hasPrefix($0) }
            if !matches {
                mismatches.append("adapter_config.json's base_model_name_or_path is \"\(adapterBase)\", the served model is \"\(servedNames[0])\"")
            }
        }
        if let adapterClass, Self.family(adapterClass) != Self.family(servedArchitecture) {
            mismatches.append("the adapter was trained on a \(adapterClass) (auto_mapping.base_model_class), the served model is a \(servedArchitecture)")
        }
        self.mismatches = mismatches
    }

    /// Throws 409 `base_model_mismatch` on a mismatch unless `allowMismatch`.
    func enforce(allowMismatch: Bool) throws {
        guard !mismatches.isEmpty, !allowMismatch else { return }
        throw HTTPError(.conflict, code: "base_model_mismatch",
                        message: mismatches.joined(separator: "; ") + ". Send \"allow_base_mismatch\": true to load it anyway")
    }

    /// `base_model_check` in the upload's description.
    var json: JSONValue {
        let result: String, note: String
        if !mismatches.isEmpty {
            (result, note) = ("mismatch_allowed", mismatches.joined(separator: "; "))
        } else if adapterBase == nil {
            (result, note) = ("unchecked", "adapter_config.json names no base_model_name_or_path; nothing to compare")
        } else {
            (result, note) = ("match", "base_model_name_or_path fits the served model")
        }
        return .object([
            "result": .string(result), "base_model_name_or_path": adapterBase.map(JSONValue.string) ?? .null,
            "served_model": .string(servedNames[0]), "served_architecture": .string(servedArchitecture), "note": .string(note),
        ])
    }

    /// "org/Name", "/path/to/Name/", ".../models--org--Name/snapshots/abc" → "name".
    static func modelName(_ nameOrPath: String) -> String {
        var trimmed = nameOrPath.trimmingCharacters(in: .whitespaces)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let name = trimmed.contains("/snapshots/") ? ModelName.resolve(directory: trimmed)
            : String(trimmed.split(separator: "/").last ?? Substring(trimmed))
        return name.lowercased()
    }

    /// "Qwen2ForCausalLM" → "qwen2", "BertModel" → "bert".
    static func family(_ architecture: String) -> String {
        var name = architecture
        if let range = name.range(of: "For") { name = String(name[..<range.lowerBound]) }
        if name.hasSuffix("Model") && name.count > 5 { name = String(name.dropLast(5)) }
        return name.lowercased()
    }
}

extension Routes {
    /// The base check for an adapter's config against this server's model.
    func baseCheck(_ configData: Data) -> BaseModelCheck {
        BaseModelCheck(configData: configData, servedNames: [options.modelName] + options.modelAliases,
                       servedArchitecture: model.architecture)
    }
}

extension EckartServer {
    /// The base check (see `BaseModelCheck`), throwing on a mismatch unless `allowMismatch`.
    func checkBase(_ configData: Data, allowMismatch: Bool) throws {
        try BaseModelCheck(configData: configData, servedNames: [options.modelName] + options.modelAliases,
                           servedArchitecture: model.architecture).enforce(allowMismatch: allowMismatch)
    }
}
