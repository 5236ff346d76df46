// `eckart truncate`: writes a rank-reduced copy of a PEFT adapter directory, loadable by peft.
import Adapters
import ArgumentParser
import Diagnostics
import Foundation
import Formats
import Models
import Server

struct TruncateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "truncate",
        abstract: "Write a PEFT adapter truncated to a rank, an energy share or a parameter budget.")

    @OptionGroup var adapter: AdapterOptions
    @Option(help: "The new adapter directory: must not exist, its name must be an adapter id ([A-Za-z0-9._-], at most 64); written atomically.")
    var out: String
    @Option(help: "Truncate every module to this rank (≥ 1).") var rank: Int?
    @OptionGroup var allocation: AllocationOptions

    func validate() throws {
        guard try allocation.goal(others: rank == nil ? 0 : 1) != nil || rank != nil else {
            throw ValidationError("give one of --rank, --energy and --budget-params")
        }
        if let rank, rank < 1 { throw ValidationError("--rank must be at least 1") }
    }

    func run() throws {
        let value = try failing {
            let (base, lora) = try adapter.load()
            let directory = adapter.directory
            let configData = try Data(contentsOf: directory.appendingPathComponent(AdapterStore.configFileName))
            let weights = try SafetensorsFile(contentsOf: directory.appendingPathComponent(AdapterStore.weightsFileName))
            let goal = try allocation.goal(others: 0) ?? .uniform(rank!)
            let files = try TruncatedAdapterFiles(adapter: lora, spectrum: try AdapterSpectrum(adapter: lora, model: base, effectiveUpdates: false),
                                                  configData: configData, weights: weights, goal: goal)
            // The store writes both files into a staging directory, fsyncs and renames it into place.
            let target = URL(fileURLWithPath: out).standardizedFileURL
            let store = try AdapterStore(root: target.deletingLastPathComponent())
            try store.put(id: target.lastPathComponent, configData: files.configData, weightsData: Data(files.weightsData),
                          replace: false)
            return truncationJSON(files)
        }
        print(value.serialized())
    }
}
