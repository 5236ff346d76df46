// `eckart spectrum`: an adapter's spectrum offline, as the server's /diagnostics/spectrum prints it.
import Adapters
import ArgumentParser
import Diagnostics
import Formats
import Foundation
import Models
import Server

struct SpectrumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrum",
        abstract: "Print the singular-value spectrum of each update ΔW = s·BA of a PEFT adapter, as JSON.")

    @OptionGroup var adapter: AdapterOptions
    @Option(help: "Only modules whose name matches this regular expression (Python re syntax, re.search).") var module: String?

    func run() throws {
        let value = try failing {
            let (base, lora) = try adapter.load()
            let filter = try module.map { try BoundedRegex($0) }
            return spectrumJSON(try AdapterSpectrum(adapter: lora, model: base), adapter: adapter.name, filter: filter)
        }
        print(value.serialized())
    }
}
