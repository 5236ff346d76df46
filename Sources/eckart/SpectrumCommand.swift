// `eckart spectrum`: an adapter's spectrum offline, as the server's /diagnostics/spectrum prints it.
import Adapters
import ArgumentParser
import Diagnostics
import Foundation
import Models
import Server

struct SpectrumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrum",
        abstract: "Print the singular-value spectrum of each update ΔW = s·BA of a PEFT adapter, as JSON.")

    @Argument(help: "A PEFT adapter directory.") var adapter: String
    @Option(help: "The base model directory the adapter was trained on.") var model: String
    @Option(help: "Only modules whose name matches this regular expression.") var module: String?

    func run() throws {
        let value = try failing {
            let base = try BaseModel.load(directory: URL(fileURLWithPath: model))
            let lora = try LoRAAdapter(directory: URL(fileURLWithPath: adapter), model: base)
            let filter = try module.map { try NSRegularExpression(pattern: $0) }
            let name = URL(fileURLWithPath: adapter).lastPathComponent
            return spectrumJSON(try AdapterSpectrum(adapter: lora, model: base), adapter: name, filter: filter)
        }
        print(value.serialized())
    }
}
