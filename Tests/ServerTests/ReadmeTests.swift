// The README's quickstart commands, run verbatim: the curl commands against a live server on the
// default model, and the decoder section's curl and openai-client commands against the fixture decoder.
import ChatTemplates
import FixtureSupport
import Foundation
import Testing
import Tokenizers

/// The shell commands of the README block `NAME` (see FixtureSupport's `readmeCommands`).
func quickstartCommands(_ name: String = "quickstart") throws -> [String] { try readmeCommands(name) }

@Test(.enabled(if: Fixtures.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"),
      .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
func readmeQuickstartWorksVerbatim() throws {
    let directory = try #require(Fixtures.miniLM)
    let live = try LiveServer(model: "all-MiniLM-L6-v2", modelDirectory: directory,
                              tokenizer: try Tokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))) {
        $0.adapterRoot = repositoryRoot
    }
    defer { live.stop() }
    let commands = try quickstartCommands()
    #expect(commands.count >= 11)
    let outputs = try run(commands, port: live.server.port, readmePort: 8080)
    #expect(outputs.contains { $0.contains(#""id":"demo""#) && $0.contains(#""rank":8"#) })
    #expect(outputs.contains { $0.contains(#""mode":"merged""#) && $0.contains(#""embeddings""#) })
    #expect(outputs.contains { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "204" })
    #expect(outputs.contains { $0.contains(#"{"tokens":[101,2023,2003,1037,3231,6251,1012,102]}"#) })
    #expect(outputs.contains { $0.contains(#"eckart_adapter_requests_total{adapter="demo"} 2"#) })
}

@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_PYTHON"] != nil, "needs ECKART_PYTHON with openai (make test sets it)"),
      .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
func readmeDecoderQuickstartWorksVerbatim() throws {
    let model = GenerationFixtures.model("qwen2-bl")
    let live = try GenerationFixtures.server("qwen2-bl", chatRenderer: try ChatTemplate.load(modelDirectory: model)) {
        $0.adapterRoot = repositoryRoot
    }
    defer { live.stop() }
    let commands = try quickstartCommands("quickstart-decoder")
    #expect(commands.count >= 8)
    let outputs = try run(commands, port: live.server.port, readmePort: 8081)
    #expect(outputs.contains { $0.contains(#""finish_reason":"length""#) && $0.contains(#""text":"#) })
    #expect(outputs.contains { $0.contains("event: token") && $0.contains("event: done") })
    #expect(outputs.contains { $0.contains("Success: LoRA adapter 'qlora' added successfully.") })
    #expect(outputs.contains { $0.contains(#""id":"qlora""#) && $0.contains(#""parent":"qwen2-bl""#) })
    #expect(outputs.contains { $0.contains(#""object":"chat.completion""#) })
    #expect(outputs.contains { $0.contains("streamed:") && $0.contains("models: [('qwen2-bl', None), ('qlora', 'qwen2-bl')]") })
}

/// Runs each command with bash from the repository root against `port` (the README says
/// `readmePort`), `python3` being the test Python; returns each one's output.
private func run(_ commands: [String], port: Int, readmePort: Int) throws -> [String] {
    var outputs: [String] = []
    for command in commands {
        let run = try runReadmeCommand(command, port: port, readmePort: readmePort)
        let text = run.stdoutText
        // `head -c` may close the pipe early; curl then exits 23, which is fine for a preview.
        #expect([0, 23].contains(run.status), "\(command): \(run.stderr)")
        #expect(!text.contains("\"error\""), "\(command): \(text)")
        outputs.append(text)
    }
    return outputs
}
