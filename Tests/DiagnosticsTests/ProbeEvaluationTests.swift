// Probe metrics of truncated adapters: zero at full rank, shrinking as the rank grows, and equal to
// a direct computation from the logits.
import Adapters
import Diagnostics
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

private let probe = [[175, 196, 25, 246, 67, 211, 151, 103, 92, 185], [3, 1, 4, 1, 5, 9, 2, 6]]

@Test func decoderProbeMetricsVanishAtFullRankAndShrinkWithRank() throws {
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    let report = try RankSweepReport(adapter: adapter, model: model, spectrum: spectrum,
                                     goals: [1, 2, 4, 8].map { .uniform($0) }, probe: probe)
    let metrics = report.rows.map { row -> (Double, Double, Double) in
        guard case .decoder(let kl, let d, let loss?, _)? = row.probe else { Issue.record("no decoder metrics"); return (0, 0, 0) }
        return (kl, d, loss)
    }
    // Full rank: the refactored factors give the same logits up to fp32 rounding (1e-4 logit policy).
    #expect(metrics[3].0 < 1e-9 && metrics[3].1 < 1e-4)
    #expect(abs(metrics[3].2 - report.fullLoss!) < 1e-5)
    // Lower ranks move the distribution, the more the lower.
    #expect(metrics[0].0 > metrics[1].0 && metrics[1].0 > metrics[2].0 && metrics[2].0 > metrics[3].0)
    #expect(metrics[0].1 > 1e-2)

    // The rank-1 row recomputed directly: KL of softmaxes and the next-token loss.
    let full = UnmergedAdapter(adapter)
    let truncated = UnmergedAdapter(try AdapterTruncation.truncated(adapter, ranks: Dictionary(uniqueKeysWithValues: adapter.moduleNames.map { ($0, 1) }), model: model))
    guard case .decoder(let model0) = model else { return }
    var kl = 0.0, positions = 0, loss = 0.0, pairs = 0
    for tokens in probe {
        let p = try model0.logits(tokens: tokens, overlay: full), q = try model0.logits(tokens: tokens, overlay: truncated)
        for t in 0..<tokens.count {
            let lp = logSoftmax(p.row(t)), lq = logSoftmax(q.row(t))
            kl += zip(lp, lq).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            positions += 1
            if t + 1 < tokens.count { loss -= lq[tokens[t + 1]]; pairs += 1 }
        }
    }
    #expect(abs(kl / Double(positions) - metrics[0].0) < 1e-9)
    #expect(abs(loss / Double(pairs) - metrics[0].2) < 1e-9)
}

private func logSoftmax(_ row: [Float]) -> [Double] {
    let top = Double(row.max()!)
    let sum = row.reduce(0.0) { $0 + exp(Double($1) - top) }
    return row.map { Double($0) - top - log(sum) }
}

@Test func encoderProbeCosineIsOneAtFullRankAndBelowAtRankOne() throws {
    let model = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("bert-lora"), model: model)
    let spectrum = try AdapterSpectrum(adapter: adapter, model: model)
    let report = try RankSweepReport(adapter: adapter, model: model, spectrum: spectrum,
                                     goals: [.uniform(1), .uniform(8)], probe: [[2, 101, 26, 109, 7, 3]])
    guard case .encoder(let low)? = report.rows[0].probe, case .encoder(let high)? = report.rows[1].probe else {
        Issue.record("expected encoder metrics"); return
    }
    #expect(abs(high - 1) < 1e-6)
    #expect(low < high && low > 0.5)
    #expect(report.fullLoss == nil)
}

@Test func doraProbeAtFullRankMatchesTheFullAdapter() throws {
    // The truncated DoRA adapter recomputes m / ‖W + s'·B'·A'‖_row; at full rank that must give the
    // full adapter's logits back (fp32 logit policy 1e-4), and rank 1 must not.
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-dora"), model: model)
    let report = try RankSweepReport(adapter: adapter, model: model, spectrum: try AdapterSpectrum(adapter: adapter, model: model, effectiveUpdates: false),
                                     goals: [.uniform(1), .uniform(4)], probe: [probe[0]])
    guard case .decoder(let lowKL, let lowDifference, _, _)? = report.rows[0].probe,
          case .decoder(let fullKL, let fullDifference, _, _)? = report.rows[1].probe else { Issue.record("no decoder metrics"); return }
    #expect(fullKL < 1e-9 && fullDifference < 1e-4)
    #expect(lowKL > 1e-4 && lowDifference > 1e-2)
}
