// Options shared by `eckart sweep` and `eckart truncate`: the adapter, its base model, and a goal.
import ArgumentParser
import Diagnostics

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
