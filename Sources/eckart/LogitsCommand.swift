// `eckart logits`: a decoder's logits for every input position, as JSON on stdout.
import ArgumentParser
import Formats
import Models

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print {\"logits\": [[...], ...]}: one row per input position, full vocabulary.")

    @OptionGroup var options: ModelOptions

    func run() throws {
        let logits = try failing {
            let (base, overlay) = try options.load()
            guard case .decoder(let model) = base else {
                throw ModelError.unsupportedArchitecture("\(base.architecture) is an encoder; use `eckart embed`")
            }
            return try model.logits(tokens: try options.parsedTokens(), overlay: overlay)
        }
        print(JSONValue.object(["logits": .rows(logits)]).serialized())
    }
}
