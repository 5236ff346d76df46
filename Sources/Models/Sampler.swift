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
    public static func distribution(_ logits: [Float], _ p: SamplingParameters) -> [(id: Int, probability: Double)] {
        precondition(p.temperature > 0, "greedy decoding has no distribution")
        var order = logits.indices.filter { !logits[$0].isNaN }
        // Plain temperature sampling needs no order (and no sort of the vocabulary per token).
        if p.topK == 0 && p.topP >= 1 {
            let top = Double(order.map { logits[$0] }.max()!) / p.temperature
            let weights = order.map { exp(Double(logits[$0]) / p.temperature - top) }
            let total = weights.reduce(0, +)
            return zip(order, weights).map { ($0, $1 / total) }
        }
        // Most likely first; ties keep the lower id first, so the cut-offs below are deterministic.
        order.sort { a, b in logits[a] != logits[b] ? logits[a] > logits[b] : a < b }
        if p.topK > 0 && p.topK < order.count { order.removeLast(order.count - p.topK) }
        let top = Double(logits[order[0]]) / p.temperature
        var weights = order.map { exp(Double(logits[$0]) / p.temperature - top) }
        var total = weights.reduce(0, +)
        if p.topP < 1 {
            // Keep a token while the probability of the more likely ones is still below top_p
            // (transformers' TopPLogitsWarper removes exactly the others; at least one stays).
            var before = 0.0, kept = 0
            while kept < weights.count && (kept == 0 || before < p.topP) {
                before += weights[kept] / total
                kept += 1
            }
            weights.removeLast(weights.count - kept)
            order.removeLast(order.count - kept)
            total = weights.reduce(0, +)
        }
        return zip(order, weights).map { ($0, $1 / total) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
