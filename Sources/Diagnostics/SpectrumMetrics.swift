// Summaries of a singular-value spectrum: energy curve, effective ranks, norms, and the
// Eckart–Young truncation error.
import Foundation

/// Metrics of one spectrum σ₁ ≥ σ₂ ≥ … ≥ 0.
///
/// Every metric is defined for an all-zero (or empty) spectrum and is then 0: no NaN reaches JSON.
public struct SpectrumMetrics: Sendable, Equatable {
    /// The thresholds the API reports energy ranks at.
    public static let energyThresholds = [0.90, 0.95, 0.99]

    /// The spectrum, descending.
    public let singularValues: [Float]
    /// `energy[k-1] = Σ_{i≤k} σᵢ² / Σ σᵢ²`, the share of squared Frobenius norm kept by rank k.
    public let energy: [Double]
    public let frobeniusNorm: Double
    public let spectralNorm: Double
    /// Σσᵢ² / σ₁² (0 for an all-zero spectrum).
    public let stableRank: Double
    /// Roy & Vetterli (2007): exp of the Shannon entropy of pᵢ = σᵢ / Σσ (0 for an all-zero spectrum).
    public let entropyRank: Double

    /// `sigma` should come descending from an SVD; it is sorted here anyway, because the energy
    /// curve and the Eckart–Young error are only meaningful in that order.
    public init(singularValues unsorted: [Float]) {
        let sigma = unsorted.sorted(by: >)
        singularValues = sigma
        let squares = sigma.map { Double($0) * Double($0) }
        let total = squares.reduce(0, +)
        var running = 0.0
        energy = squares.map { running += $0; return total > 0 ? running / total : 0 }
        frobeniusNorm = total.squareRoot()
        spectralNorm = Double(sigma.first ?? 0)
        stableRank = spectralNorm > 0 ? total / (spectralNorm * spectralNorm) : 0
        let sum = sigma.reduce(0.0) { $0 + Double($1) }
        if sum > 0 {
            let entropy = sigma.reduce(0.0) { h, s in
                let p = Double(s) / sum
                return p > 0 ? h - p * log(p) : h
            }
            entropyRank = exp(entropy)
        } else {
            entropyRank = 0
        }
    }

    /// The smallest k whose energy reaches `threshold` (0 for an all-zero spectrum). A 1e-12 slack
    /// keeps a rounding error in the running sum from pushing an exact hit one rank further.
    public func energyRank(_ threshold: Double) -> Int {
        guard frobeniusNorm > 0 else { return 0 }
        return (energy.firstIndex { $0 >= threshold - 1e-12 } ?? energy.count - 1) + 1
    }

    /// Eckart–Young: the Frobenius error of the best rank-k approximation, sqrt(Σ_{i>k} σᵢ²).
    public func truncationError(rank k: Int) -> Double {
        singularValues.dropFirst(max(0, k)).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    /// The truncation error relative to the Frobenius norm (0 for an all-zero spectrum).
    public func relativeTruncationError(rank k: Int) -> Double {
        frobeniusNorm > 0 ? truncationError(rank: k) / frobeniusNorm : 0
    }
}
