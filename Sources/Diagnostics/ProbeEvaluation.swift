// What truncating an adapter does to the model's outputs on probe sequences.
//
// Decoders: for every position t of every probe, p_t = softmax(logits of the full adapter) and
// q_t = softmax(logits of the truncated one). Reported: the mean of KL(p_t ‖ q_t) over all positions,
// the largest |Δlogit|, and the mean cross-entropy of predicting token t+1 from positions ≤ t under
// the truncated adapter (loss; perplexity = exp(loss)). Everything is accumulated in Double with
// log-sum-exp, so a 1e-7 KL is not swamped by float rounding.
// Encoders: the mean cosine similarity of the sentence embeddings, full against truncated.
import Adapters
import Foundation
import LinearAlgebra
import Models

/// Output-level effect of a truncated adapter against the full one.
public enum ProbeMetrics: Sendable, Equatable {
    case decoder(meanKL: Double, maxAbsLogitDifference: Double, loss: Double?, perplexity: Double?)
    case encoder(meanCosineSimilarity: Double)
}

/// Probe sequences and the full adapter's outputs on them, computed once and compared against
/// every truncation.
public struct ProbeReference: Sendable {
    public let model: BaseModel
    public let sequences: [[Int]]
    /// Decoders: logits (n × vocab) per sequence; encoders: one embedding per sequence.
    let outputs: [Output]
    /// Decoders: the full adapter's loss on the probes (nil when no sequence has two tokens).
    public let fullLoss: Double?

    enum Output: Sendable {
        case logits(Matrix)
        case embedding([Float])
    }

    /// Runs `overlay` (the full adapter) on every sequence. Throws the model's errors for bad tokens.
    public init(model: BaseModel, sequences: [[Int]], overlay: any LinearOverlay) throws {
        self.model = model
        self.sequences = sequences
        outputs = try sequences.map { try Self.run(model, $0, overlay) }
        let logits = outputs.compactMap { if case .logits(let m) = $0 { m } else { nil } }
        fullLoss = logits.isEmpty ? nil : Self.loss(logits, sequences)
    }

    /// The metrics of `overlay` (a truncated adapter) against the full adapter.
    public func evaluate(_ overlay: any LinearOverlay) throws -> ProbeMetrics {
        var klSum = 0.0, positions = 0, maxDifference = 0.0
        var cosineSum = 0.0
        var truncatedLogits: [Matrix] = []
        for (sequence, reference) in zip(sequences, outputs) {
            switch (reference, try Self.run(model, sequence, overlay)) {
            case (.logits(let full), .logits(let truncated)):
                for t in 0..<full.rows {
                    let p = Self.logSoftmax(full.row(t)), q = Self.logSoftmax(truncated.row(t))
                    klSum += zip(p, q).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
                    positions += 1
                }
                for i in full.storage.indices {
                    maxDifference = max(maxDifference, Double(abs(full.storage[i] - truncated.storage[i])))
                }
                truncatedLogits.append(truncated)
            case (.embedding(let full), .embedding(let truncated)):
                cosineSum += Self.cosine(full, truncated)
            default:
                preconditionFailure("the model kind cannot change between runs")
            }
        }
        if case .decoder = model {
            let loss = Self.loss(truncatedLogits, sequences)
            return .decoder(meanKL: positions > 0 ? max(0, klSum / Double(positions)) : 0,
                            maxAbsLogitDifference: maxDifference, loss: loss, perplexity: loss.map { exp($0) })
        }
        return .encoder(meanCosineSimilarity: sequences.isEmpty ? 1 : cosineSum / Double(sequences.count))
    }

    private static func run(_ model: BaseModel, _ tokens: [Int], _ overlay: any LinearOverlay) throws -> Output {
        switch model {
        case .decoder(let decoder): .logits(try decoder.logits(tokens: tokens, overlay: overlay))
        case .encoder(let encoder): .embedding(try encoder.encode(tokens: tokens, overlay: overlay).embedding)
        }
    }

    /// log softmax in Double: x − (max + log Σ exp(x − max)).
    static func logSoftmax(_ row: [Float]) -> [Double] {
        let x = row.map(Double.init)
        let top = x.max() ?? 0
        let logSum = top + log(x.reduce(0.0) { $0 + exp($1 - top) })
        return x.map { $0 - logSum }
    }

    /// Mean cross-entropy of token t+1 given positions ≤ t, over every sequence; nil without any pair.
    static func loss(_ logits: [Matrix], _ sequences: [[Int]]) -> Double? {
        var sum = 0.0, count = 0
        for (m, tokens) in zip(logits, sequences) where tokens.count > 1 {
            for t in 0..<(tokens.count - 1) {
                sum -= logSoftmax(m.row(t))[tokens[t + 1]]
                count += 1
            }
        }
        return count > 0 ? sum / Double(count) : nil
    }

    static func cosine(_ x: [Float], _ y: [Float]) -> Double {
        var dot = 0.0, xx = 0.0, yy = 0.0
        for (a, b) in zip(x, y) { dot += Double(a) * Double(b); xx += Double(a) * Double(a); yy += Double(b) * Double(b) }
        return xx > 0 && yy > 0 ? dot / (xx * yy).squareRoot() : 0
    }
}
