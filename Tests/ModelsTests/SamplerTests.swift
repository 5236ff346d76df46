// The sampler: seeded determinism, greedy limits of top-k / top-p, and empirical frequencies that
// match softmax(logits / T) (with top-k / top-p applied as transformers' warpers do).
import Foundation
@testable import Models
import Testing

private let logits: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, 3.0, 1.0, -0.5]

/// softmax(logits / T) in Double.
private func softmax(_ logits: [Float], temperature: Double) -> [Double] {
    let top = Double(logits.max()!) / temperature
    let e = logits.map { exp(Double($0) / temperature - top) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
}

/// Pearson's chi-square statistic of `counts` against probabilities `expected` (zero-probability
/// cells must have zero counts).
private func chiSquare(_ counts: [Int], _ expected: [Double]) -> Double {
    let n = Double(counts.reduce(0, +))
    var statistic = 0.0
    for (count, p) in zip(counts, expected) where p > 0 {
        statistic += pow(Double(count) - n * p, 2) / (n * p)
    }
    return statistic
}

private func draws(_ parameters: SamplingParameters, count: Int) -> [Int] {
    var sampler = Sampler(parameters)
    var counts = [Int](repeating: 0, count: logits.count)
    for _ in 0..<count { counts[sampler.next(logits)] += 1 }
    return counts
}

@Test func sameSeedSameTokensDifferentSeedsDiffer() {
    func sequence(_ seed: UInt64) -> [Int] {
        var sampler = Sampler(SamplingParameters(temperature: 1, seed: seed))
        return (0..<64).map { _ in sampler.next(logits) }
    }
    #expect(sequence(7) == sequence(7))
    // 64 draws over 8 tokens with no token above 50%: two seeds agreeing everywhere is ~impossible.
    #expect(sequence(7) != sequence(8))
    #expect(Set(sequence(7)).count > 3)
}

@Test func greedyAndItsLimitsPickTheFirstLargest() {
    let tied: [Float] = [0, 5, 1, 5]
    var greedy = Sampler(.greedy)
    #expect(greedy.next(tied) == 1)
    for seed in UInt64(0)..<50 {
        var topK = Sampler(SamplingParameters(temperature: 1.5, topK: 1, seed: seed))
        var topP = Sampler(SamplingParameters(temperature: 1.5, topP: 1e-9, seed: seed))
        #expect(topK.next(logits) == 5 && topP.next(logits) == 5)
        #expect(topK.next(tied) == 1 && topP.next(tied) == 1)
    }
}

// 40,000 seeded draws; chi-square with 7 degrees of freedom has a 99.99% quantile of 29.9, so a
// correct sampler passes (and with a fixed seed, always the same way), while forgetting the
// temperature (0.7) would give a statistic in the thousands.
@Test func frequenciesMatchSoftmaxWithTemperature() {
    let expected = softmax(logits, temperature: 0.7)
    let counts = draws(SamplingParameters(temperature: 0.7, seed: 2024), count: 40_000)
    #expect(chiSquare(counts, expected) < 29.9, "\(counts) vs \(expected)")
    #expect(chiSquare(counts, softmax(logits, temperature: 1)) > 200)
}

@Test func topKAndTopPRestrictAndRenormalise() {
    // top_k = 3 keeps ids 5, 0 and the first of the tied 1.0s (id 1).
    var kept = softmax(logits, temperature: 1)
    for i in kept.indices where ![5, 0, 1].contains(i) { kept[i] = 0 }
    let total = kept.reduce(0, +)
    let topK = draws(SamplingParameters(temperature: 1, topK: 3, seed: 5), count: 30_000)
    #expect(topK.enumerated().allSatisfy { kept[$0.offset] > 0 || $0.element == 0 })
    #expect(chiSquare(topK, kept.map { $0 / total }) < 25, "\(topK)")   // 2 dof; 99.99% quantile 18.4

    // top_p = 0.8: probabilities at T = 1 are 0.52, 0.19, 0.07, 0.07, ... so ids 5 and 0 make 0.71
    // (< 0.8) and the next (id 1, 0.07) is still needed: three ids stay.
    let p = softmax(logits, temperature: 1)
    let distribution = Sampler.distribution(logits, SamplingParameters(temperature: 1, topP: 0.8))
    #expect(distribution.map(\.id) == [5, 0, 1])
    #expect(abs(distribution[0].probability - p[5] / (p[5] + p[0] + p[1])) < 1e-12)
}

// The threshold search sorts only the likeliest ids; it must give exactly the full sort's answer.
// Peaked and flat logits over a 32k vocabulary with ties and a few -inf / NaN entries, against
// every kind of restriction.
@Test func candidateSearchEqualsTheFullSort() {
    var rng = Xoshiro256StarStar(seed: 11)
    for (spread, ties) in [(12.0, false), (0.05, false), (3.0, true)] {
        var logits = (0..<32_000).map { _ in Float((rng.nextUnit() * 2 - 1) * spread) }
        if ties { for i in stride(from: 0, to: logits.count, by: 7) { logits[i] = Float(spread / 2) } }
        logits[3] = -.infinity
        logits[5] = .nan
        for parameters in [SamplingParameters(temperature: 1, topK: 40), SamplingParameters(temperature: 0.7, topP: 0.9),
                           SamplingParameters(temperature: 1.3, topK: 500, topP: 0.5), SamplingParameters(temperature: 1, topP: 0.999),
                           SamplingParameters(temperature: 2, topK: 1), SamplingParameters(temperature: 1, topP: 1e-9)] {
            let fast = Sampler.distribution(logits, parameters)
            let reference = Sampler.distributionBySorting(logits, parameters)
            let sameIDs = fast.map(\.id) == reference.map(\.id)   // a Bool, so a failure prints no 32k-long arrays
            #expect(sameIDs, "spread \(spread) ties \(ties) \(parameters): \(fast.count) vs \(reference.count) ids")
            #expect(zip(fast, reference).allSatisfy { abs($0.probability - $1.probability) < 1e-12 })
        }
    }
}
