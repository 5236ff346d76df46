// A rank sweep or a budgeted allocation with optional probe metrics: the computation behind
// POST /diagnostics/rank-sweep and `eckart sweep`.
import Adapters
import Models

/// One evaluated allocation: the closed-form errors and, with probes, the output-level effect.
public struct RankSweepRow: Sendable {
    public let goal: RankAllocation.Goal
    public let allocation: RankAllocation
    public let probe: ProbeMetrics?
}

/// Allocations of one adapter evaluated against the full adapter.
public struct RankSweepReport: Sendable {
    public let rows: [RankSweepRow]
    /// The probe sequences (empty without a probe).
    public let probeSequences: [[Int]]
    /// Decoders with a probe: the full adapter's loss on it.
    public let fullLoss: Double?

    /// Evaluates every goal. With `probe` sequences, runs the full adapter once and each truncated
    /// adapter (unmerged, DoRA row norms recomputed) on every sequence.
    public init(adapter: LoRAAdapter, model: BaseModel, spectrum: AdapterSpectrum,
                goals: [RankAllocation.Goal], probe: [[Int]]?) throws {
        let reference = try probe.map { try ProbeReference(model: model, sequences: $0, overlay: UnmergedAdapter(adapter)) }
        rows = try goals.map { goal in
            let allocation = RankAllocation(spectrum: spectrum, goal: goal)
            var metrics: ProbeMetrics? = nil
            if let reference {
                let truncated = try AdapterTruncation.truncated(adapter, ranks: allocation.rankByModule, model: model)
                metrics = try reference.evaluate(UnmergedAdapter(truncated))
            }
            return RankSweepRow(goal: goal, allocation: allocation, probe: metrics)
        }
        probeSequences = probe ?? []
        fullLoss = reference?.fullLoss
    }
}
