// `eckart sweep`: a rank sweep or budgeted allocation offline, printed as POST /diagnostics/rank-sweep answers.
import Adapters
import ArgumentParser
import Diagnostics
import Foundation
import Models
import Server

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Print what truncating a PEFT adapter's updates costs per rank (or for a budget), as JSON.")

    @OptionGroup var adapter: AdapterOptions
    @Option(help: "Comma-separated ranks (default: powers of two up to the adapter's rank).") var ranks: String?
    @OptionGroup var allocation: AllocationOptions
    @Option(help: "Probe token ids: comma-separated, sequences separated by ';', e.g. \"1,2,3;4,5\".")
    var probeTokens: String?

    func validate() throws {
        _ = try allocation.goal(others: ranks == nil ? 0 : 1)
        _ = try rankList()
        if let probeTokens { _ = try parseProbeTokens(probeTokens) }
    }

    /// `--ranks` as numbers (nil when not given).
    private func rankList() throws -> [Int]? {
        guard let ranks else { return nil }
        let parsed = ranks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.count == ranks.split(separator: ",").count, parsed.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--ranks must be comma-separated ranks ≥ 0, e.g. 1,2,4")
        }
        return parsed
    }

    func run() throws {
        let value = try failing {
            let (base, lora) = try adapter.load()
            let spectrum = try AdapterSpectrum(adapter: lora, model: base, effectiveUpdates: false)
            let goals: [RankAllocation.Goal]
            if let goal = try allocation.goal(others: 0) {
                goals = [goal]
            } else {
                goals = (try rankList() ?? spectrum.defaultSweepRanks).map { .uniform($0) }
            }
            let report = try RankSweepReport(adapter: lora, model: base, spectrum: spectrum, goals: goals,
                                             probe: try probeTokens.map(parseProbeTokens))
            return rankSweepJSON(report, adapter: adapter.name, isDoRA: lora.isDoRA)
        }
        print(value.serialized())
    }
}
