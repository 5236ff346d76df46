// Choosing a rank per module: uniform, under a parameter budget, or to keep a share of the energy.
//
// Keeping rank k_m of module m costs k_m·(in_m + out_m) parameters and loses Σ_{i>k_m} σ_{m,i}² of
// squared Frobenius norm (Eckart–Young). The greedy rule gives the next unit of rank to the module
// whose next singular value removes the most squared error per parameter, σ_{m,k_m+1}² / (in_m + out_m).
// Since each module's σ are descending, each module's gains are non-increasing, so as long as the
// greedy follows that ratio order its allocation is optimal (least total squared error) among all
// allocations costing no more than it does — the exchange argument for separable concave objectives.
// Under a budget, a module whose next unit no longer fits is skipped and cheaper modules may still
// take units; that uses the budget better but can leave the ratio order, and with it the guarantee
// (on the brute-force test problems it stays optimal for over 90 % of budgets; RankAllocationTests).
//
// The next-best module is found by a linear scan over modules rather than a heap: allocations have
// at most Σ r_m steps (a few thousand) over a few hundred modules, so the scan is not the cost.
// For DoRA the spectrum used is that of s·B·A, the part truncation changes.

/// Ranks for every module of an adapter and the error they leave.
public struct RankAllocation: Sendable, Equatable {
    /// What the allocation aims for.
    public enum Goal: Sendable, Equatable {
        /// The same rank k for every module (min(k, r_m)).
        case uniform(Int)
        /// At most this many factor parameters, Σ k_m·(in_m + out_m).
        case budget(Int)
        /// The smallest greedy allocation keeping this share (0, 1] of Σ_m ‖ΔW_m‖²_F.
        case energy(Double)
    }

    /// Module names, in the spectrum's order.
    public let modules: [String]
    /// Rank kept per module (0 drops the update).
    public let ranks: [Int]
    /// Σ k_m·(in_m + out_m).
    public let parameterCount: Int
    /// ‖ΔW_m − ΔW_m,k‖_F / ‖ΔW_m‖_F per module.
    public let moduleRelativeErrors: [Double]
    /// sqrt(Σ_m lost_m² / Σ_m ‖ΔW_m‖²_F).
    public let relativeError: Double
    /// Share of Σ_m ‖ΔW_m‖²_F kept (1 − relativeError²).
    public let energyKept: Double

    /// The ranks as a dictionary by module name.
    public var rankByModule: [String: Int] { Dictionary(uniqueKeysWithValues: zip(modules, ranks)) }

    /// Evaluates fixed ranks (one per module of `spectrum`, in order).
    public init(spectrum: AdapterSpectrum, ranks: [Int]) {
        precondition(ranks.count == spectrum.modules.count, "one rank per module")
        let modules = spectrum.modules
        self.modules = modules.map(\.name)
        self.ranks = zip(ranks, modules).map { min($0, $1.rank) }
        parameterCount = zip(self.ranks, modules).reduce(0) { $0 + $1.0 * ($1.1.shape[0] + $1.1.shape[1]) }
        moduleRelativeErrors = zip(self.ranks, modules).map { $1.metrics.relativeTruncationError(rank: $0) }
        let total = modules.reduce(0.0) { $0 + $1.metrics.frobeniusNorm * $1.metrics.frobeniusNorm }
        let lost = zip(self.ranks, modules).reduce(0.0) { sum, pair in
            let e = pair.1.metrics.truncationError(rank: pair.0)
            return sum + e * e
        }
        relativeError = total > 0 ? (lost / total).squareRoot() : 0
        energyKept = total > 0 ? 1 - lost / total : 1
    }

    /// Allocates ranks for `goal`: uniform directly, budget and energy greedily (see the file header).
    public init(spectrum: AdapterSpectrum, goal: Goal) {
        switch goal {
        case .uniform(let k):
            self.init(spectrum: spectrum, ranks: spectrum.modules.map { _ in k })
        case .budget(let budget):
            self.init(spectrum: spectrum, ranks: Self.greedy(spectrum, budget: budget, energy: nil))
        case .energy(let tau):
            self.init(spectrum: spectrum, ranks: Self.greedy(spectrum, budget: nil, energy: tau))
        }
    }

    static func greedy(_ spectrum: AdapterSpectrum, budget: Int?, energy: Double?) -> [Int] {
        greedy(squaredSingularValues: spectrum.modules.map { $0.singularValues.map { Double($0) * Double($0) } },
               costs: spectrum.modules.map { $0.shape[0] + $0.shape[1] }, budget: budget, energy: energy)
    }

    /// The greedy loop over modules given by their descending σ² and per-rank cost (in + out): stops
    /// when the budget admits no further unit, when the kept energy reaches `energy` (1e-12 slack for
    /// rounding in the running sum), or when no non-zero singular value is left.
    public static func greedy(squaredSingularValues squares: [[Double]], costs: [Int], budget: Int?, energy: Double?) -> [Int] {
        let total = squares.reduce(0.0) { $0 + $1.reduce(0, +) }
        var ranks = [Int](repeating: 0, count: squares.count)
        var spent = 0, kept = 0.0
        while true {
            if let energy, total > 0, kept / total >= energy - 1e-12 { break }
            if energy != nil, total == 0 { break }
            var best: Int? = nil, bestGain = 0.0
            for m in squares.indices where ranks[m] < squares[m].count {
                if let budget, spent + costs[m] > budget { continue }
                let gain = squares[m][ranks[m]] / Double(costs[m])
                if gain > bestGain { best = m; bestGain = gain }   // ties keep the earlier module
            }
            guard let m = best else { break }
            kept += squares[m][ranks[m]]
            spent += costs[m]
            ranks[m] += 1
        }
        return ranks
    }
}
