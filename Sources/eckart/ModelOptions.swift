// Options shared by the commands that run a model on a token list.
import Adapters
import ArgumentParser
import Foundation
import Formats
import LinearAlgebra
import Models

/// How an adapter is applied for one call.
enum ApplyMode: String, ExpressibleByArgument, CaseIterable {
    case unmerged, merged
}

struct ModelOptions: ParsableArguments {
    @Option(help: "A Hugging Face model directory (config.json + *.safetensors).")
    var model: String

    @Option(help: "A PEFT adapter directory (adapter_config.json + adapter_model.safetensors).")
    var adapter: String?

    @Option(help: "How to apply the adapter: unmerged (y = Wx + s·B(Ax)) or merged (W' = W + s·BA).")
    var mode: ApplyMode = .unmerged

    @Option(help: "Comma-separated token ids, e.g. 1,2,3.")
    var tokens: String

    @Option(help: "Refuse adapters whose rank exceeds this.")
    var maxRank: Int = AdapterConfig.defaultMaxRank

    // Optional, so that the help states the default once, in words (a literal default would be
    // printed again as "(default: <this machine's core count>)").
    @Option(name: .customLong("threads"), help: "OpenBLAS threads (default: every core).")
    var threadCount: Int?

    /// --threads, or every core.
    var threads: Int { threadCount ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        guard (try? parsedTokens()) != nil else {
            throw ValidationError("--tokens must be comma-separated integers, e.g. 1,2,3")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func parsedTokens() throws -> [Int] {
        let parts = tokens.split(separator: ",", omittingEmptySubsequences: false)
        return try parts.map {
            guard let id = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("bad token \($0)") }
            return id
        }
    }

    /// Loads the model and, if given, the adapter in the requested mode.
    func load() throws -> (BaseModel, (any LinearOverlay)?) {
        BLAS.setThreadCount(threads)
        let base = try BaseModel.load(path: URL(fileURLWithPath: model))
        guard let adapter else { return (base, nil) }
        let lora = try LoRAAdapter(directory: URL(fileURLWithPath: adapter), model: base, maxRank: maxRank)
        switch mode {
        case .unmerged: return (base, UnmergedAdapter(lora))
        case .merged: return (base, MergedAdapter(lora, model: base))
        }
    }
}

extension JSONValue {
    /// A JSON array of floats, each printed as its shortest round-trip decimal.
    static func floats(_ values: some Sequence<Float>) -> JSONValue {
        .array(values.map { .number(JSONNumber($0)) })
    }

    /// A JSON array of a matrix's rows.
    static func rows(_ m: Matrix) -> JSONValue {
        .array((0..<m.rows).map { floats(m.storage[($0 * m.cols)..<(($0 + 1) * m.cols)]) })
    }
}
