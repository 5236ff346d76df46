// What truncating every update of an adapter to rank k would cost, in closed form (Eckart–Young):
// the best rank-k approximation of ΔW loses exactly sqrt(Σ_{i>k} σᵢ²) in Frobenius norm.

/// One row of a rank sweep.
public struct RankSweepPoint: Sendable {
    public let rank: Int
    /// Parameters of the truncated adapter: Σ min(k, r_m)·(in + out) over modules.
    public let parameterCount: Int
    /// ‖ΔW − ΔW_k‖_F / ‖ΔW‖_F per module, in module order.
    public let moduleRelativeErrors: [Double]
    /// sqrt(Σ_m ‖ΔW_m − ΔW_m,k‖²_F) / sqrt(Σ_m ‖ΔW_m‖²_F).
    public let relativeError: Double
}

extension AdapterSpectrum {
    /// Powers of two up to the largest module rank, plus that rank itself.
    public var defaultSweepRanks: [Int] {
        let top = modules.map(\.rank).max() ?? 0
        var ranks = Array(sequence(first: 1) { $0 * 2 }.prefix { $0 < top })
        if top > 0 { ranks.append(top) }
        return ranks
    }

    /// The truncation cost of every rank in `ranks` (each module keeps min(k, its rank) values).
    public func sweep(ranks: [Int]) -> [RankSweepPoint] {
        let totalSquared = modules.reduce(0.0) { $0 + $1.metrics.frobeniusNorm * $1.metrics.frobeniusNorm }
        return ranks.map { k in
            var parameters = 0, lostSquared = 0.0
            var relative: [Double] = []
            for module in modules {
                let kept = min(k, module.rank)
                parameters += kept * (module.shape[0] + module.shape[1])
                let lost = module.metrics.truncationError(rank: kept)
                lostSquared += lost * lost
                relative.append(module.metrics.relativeTruncationError(rank: kept))
            }
            return RankSweepPoint(rank: k, parameterCount: parameters, moduleRelativeErrors: relative,
                                  relativeError: totalSquared > 0 ? (lostSquared / totalSquared).squareRoot() : 0)
        }
    }
}
