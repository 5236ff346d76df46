// `eckart embed`: an encoder's sentence embedding and last hidden state, as JSON on stdout.
import ArgumentParser
import Formats
import Models

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print {\"embedding\": [...], \"last_hidden_state\": [[...], ...]}.")

    @OptionGroup var options: ModelOptions

    func run() throws {
        let encoding = try failing {
            let (base, overlay) = try options.load()
            guard case .encoder(let model) = base else {
                throw ModelError.unsupportedArchitecture("\(base.architecture) is a decoder; use `eckart logits`")
            }
            return try model.encode(tokens: try options.parsedTokens(), overlay: overlay)
        }
        let output: JSONValue = .object(["embedding": .floats(encoding.embedding),
                                         "last_hidden_state": .rows(encoding.lastHiddenState)])
        print(output.serialized())
    }
}
