// Picks the next token from a row of logits: greedy argmax, or sampling after temperature, top-k
// and top-p in the order transformers' logits warpers apply them, from a seeded PRNG of our own
// (so the same seed gives the same tokens on every platform and release).

/// How the next token is chosen.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax, first index on ties).
    public var temperature: Double
    /// Keep only the `topK` most likely tokens; 0 keeps all.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`; 1 keeps all.
    public var topP: Double
    /// The PRNG seed; nil draws one from the system generator.
    public var seed: UInt64?

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    public static let greedy = SamplingParameters()
    public var isGreedy: Bool { temperature == 0 }
}

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64 as its authors recommend.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// Chooses tokens for one sequence; holds its PRNG state between steps.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256StarStar

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        var system = SystemRandomNumberGenerator()
        rng = Xoshiro256StarStar(seed: parameters.seed ?? system.next())
    }

    /// The next token id for `logits` (one vocabulary row).
    public mutating func next(_ logits: some Collection<Float>) -> Int {
        let logits = Array(logits)
        if parameters.isGreedy { return Self.argmax(logits) }
        let candidates = Self.distribution(logits, parameters)
        let u = rng.nextUnit()
        var cumulative = 0.0
        for (id, p) in candidates {
            cumulative += p
            if u < cumulative { return id }
        }
        return candidates.last!.id   // u within rounding of 1
    }

    /// First index of the largest value (as torch.argmax).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for j in logits.indices where logits[j] > logits[best] { best = j }
        return best
    }

    /// The tokens that may be drawn and their probabilities (summing to 1): softmax(logits / T)
    /// restricted by top-k, then top-p, then renormalised, computed in Double. Most likely first
    /// when top-k or top-p apply; in id order otherwise.
    ///
    /// Semantically the full sort (the slow reference the tests compare against):
    ///
    ///     order = ids sorted by logit descending, lower id first on ties
    ///     keep the first top_k; then, over softmax of those, keep each id while the probability of
    ///     the ones before it is still below top_p (at least one)
    ///
    /// but without sorting the vocabulary every token: only the ids at or above a logit threshold
    /// are sorted, and the threshold is lowered until they hold enough probability. Everything
    /// below the threshold ranks after everything at or above it, so the sorted candidates are
    /// exactly the full order's prefix.
    public static func distribution(_ logits: [Float], _ p: SamplingParameters) -> [(id: Int, probability: Double)] {
        precondition(p.temperature > 0, "greedy decoding has no distribution")
        let valid = logits.indices.filter { !logits[$0].isNaN }
        let maximum = valid.map { logits[$0] }.max()!
        let top = Double(maximum) / p.temperature
        func weight(_ id: Int) -> Double { exp(Double(logits[id]) / p.temperature - top) }
        // Plain temperature sampling needs no order.
        if p.topK == 0 && p.topP >= 1 {
            let weights = valid.map(weight)
            let total = weights.reduce(0, +)
            return zip(valid, weights).map { ($0, $1 / total) }
        }
        let keepCount = p.topK > 0 ? min(p.topK, valid.count) : valid.count
        // Softmax over what top-k keeps (top-p renormalises over it, as transformers' warpers chain).
        let order: [Int]
        let total: Double
        if p.topK > 0 {
            order = Array(mostLikely(logits, among: valid, maximum: maximum) { $0.count >= keepCount }.prefix(keepCount))
            total = order.reduce(0) { $0 + weight($1) }
        } else {
            total = valid.reduce(0) { $0 + weight($1) }
            // Enough candidates once they hold top_p of the mass (the first id outside then has
            // "before" ≥ top_p and is cut); the margin covers summing in another order than below.
            order = mostLikely(logits, among: valid, maximum: maximum) { ids in ids.reduce(0) { $0 + weight($1) } / total >= p.topP + 1e-9 }
        }
        return topPCut(order, order.map(weight), total: total, topP: p.topP)
    }

    /// The ids of `valid` (whose largest logit is `maximum`) at or above a logit threshold, sorted as the full order (logit
    /// descending, lower id first on ties), for the highest threshold whose set satisfies
    /// `isEnough` (all of `valid` if none does). Thresholds step down from the maximum by 1, 2, 4, …
    /// logits, so a peaked distribution sorts a handful of ids and a flat one at worst all.
    static func mostLikely(_ logits: [Float], among valid: [Int], maximum: Float, isEnough: ([Int]) -> Bool) -> [Int] {
        var gap: Float = 1
        var candidates: [Int]
        repeat {
            let threshold = maximum - gap
            candidates = gap.isFinite ? valid.filter { logits[$0] >= threshold } : valid
            gap = candidates.count == valid.count ? .infinity : gap * 2
        } while candidates.count < valid.count && !isEnough(candidates)
        return candidates.sorted { a, b in logits[a] != logits[b] ? logits[a] > logits[b] : a < b }
    }

    /// The full-sort reference of `distribution` (sorts the whole vocabulary), for tests and `eckart bench`.
    public static func distributionBySorting(_ logits: [Float], _ p: SamplingParameters) -> [(id: Int, probability: Double)] {
        var order = logits.indices.filter { !logits[$0].isNaN }
        order.sort { a, b in logits[a] != logits[b] ? logits[a] > logits[b] : a < b }
        if p.topK > 0 && p.topK < order.count { order.removeLast(order.count - p.topK) }
        let top = Double(logits[order[0]]) / p.temperature
        let weights = order.map { exp(Double(logits[$0]) / p.temperature - top) }
        return topPCut(order, weights, total: weights.reduce(0, +), topP: p.topP)
    }

    /// `order` (most likely first) with unnormalised `weights` summing to `total` over the kept
    /// vocabulary: keeps each id while the probability of the ones before it is still below `topP`
    /// (transformers' TopPLogitsWarper removes exactly the others; at least one stays), renormalised.
    private static func topPCut(_ order: [Int], _ weights: [Double], total: Double, topP: Double) -> [(id: Int, probability: Double)] {
        var kept = order.count
        if topP < 1 {
            var before = 0.0
            kept = 0
            while kept < weights.count && (kept == 0 || before < topP) {
                before += weights[kept] / total
                kept += 1
            }
        }
        let keptTotal = topP < 1 ? weights.prefix(kept).reduce(0, +) : total
        return zip(order.prefix(kept), weights.prefix(kept)).map { ($0, $1 / keptTotal) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
