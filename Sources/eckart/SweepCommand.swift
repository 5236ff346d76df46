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

    @Argument(help: "A PEFT adapter directory.") var adapter: String
    @Option(help: "The base model directory the adapter was trained on.") var model: String
    @Option(help: "Comma-separated ranks (default: powers of two up to the adapter's rank).") var ranks: String?
    @OptionGroup var allocation: AllocationOptions
    @Option(help: "Probe token ids: comma-separated, sequences separated by ';', e.g. \"1,2,3;4,5\".")
    var probeTokens: String?

    func validate() throws {
        _ = try allocation.goal(others: ranks == nil ? 0 : 1)
        if let ranks {
            let parsed = ranks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw ValidationError("--ranks must be comma-separated ranks ≥ 0, e.g. 1,2,4")
            }
        }
        if let probeTokens { _ = try parseProbeTokens(probeTokens) }
    }

    func run() throws {
        let value = try failing {
            let base = try BaseModel.load(directory: URL(fileURLWithPath: model))
            let lora = try LoRAAdapter(directory: URL(fileURLWithPath: adapter), model: base)
            let spectrum = try AdapterSpectrum(adapter: lora, model: base, effectiveUpdates: false)
            let goals: [RankAllocation.Goal]
            if let goal = try allocation.goal(others: 0) {
                goals = [goal]
            } else {
                let list = ranks.map { $0.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! } }
                goals = (list ?? spectrum.defaultSweepRanks).map { .uniform($0) }
            }
            let report = try RankSweepReport(adapter: lora, model: base, spectrum: spectrum, goals: goals,
                                             probe: try probeTokens.map(parseProbeTokens))
            return rankSweepJSON(report, adapter: URL(fileURLWithPath: adapter).lastPathComponent, isDoRA: lora.isDoRA)
        }
        print(value.serialized())
    }
}
