// Options shared by the offline adapter commands (`spectrum`, `sweep`, `truncate`): the adapter
// directory and its base model, and for sweep and truncate a rank-allocation goal.
import Adapters
import ArgumentParser
import Diagnostics
import Foundation
import Models

/// A PEFT adapter directory and the base model it was trained on.
struct AdapterOptions: ParsableArguments {
    @Argument(help: "A PEFT adapter directory.") var adapter: String
    @Option(help: "The base model directory the adapter was trained on.") var model: String

    var directory: URL { URL(fileURLWithPath: adapter) }
    /// The adapter's name in printed reports: its directory's name.
    var name: String { directory.lastPathComponent }

    /// Loads the base model, then the adapter validated against it.
    func load() throws -> (base: BaseModel, adapter: LoRAAdapter) {
        let base = try BaseModel.load(path: URL(fileURLWithPath: model))
        return (base, try LoRAAdapter(directory: directory, model: base))
    }
}

struct AllocationOptions: ParsableArguments {
    @Option(help: "Keep this share (0, 1] of the adapter's squared Frobenius norm, ranks allocated greedily.")
    var energy: Double?

    @Option(help: "Spend at most this many factor parameters Σ k·(in + out), ranks allocated greedily.")
    var budgetParams: Int?

    /// The budget / energy goal, if one was given; validates ranges and exclusivity with `others`.
    func goal(others: Int) throws -> RankAllocation.Goal? {
        let given = [energy != nil, budgetParams != nil].filter { $0 }.count + others
        guard given <= 1 else { throw ValidationError("give only one of --rank(s), --energy and --budget-params") }
        if let energy {
            guard energy > 0, energy <= 1 else { throw ValidationError("--energy must be in (0, 1]") }
            return .energy(energy)
        }
        if let budgetParams {
            guard budgetParams >= 0 else { throw ValidationError("--budget-params must be ≥ 0") }
            return .budget(budgetParams)
        }
        return nil
    }
}

/// "1,2,3;4,5" → [[1, 2, 3], [4, 5]].
func parseProbeTokens(_ text: String) throws -> [[Int]] {
    try text.split(separator: ";").map { sequence in
        try sequence.split(separator: ",").map {
            guard let id = Int($0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--probe-tokens must be comma-separated ids, sequences separated by ';'")
            }
            return id
        }
    }
}
