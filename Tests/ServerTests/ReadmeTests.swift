// The README's quickstart curl commands, run verbatim against a live server on the default model.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

let repositoryRoot = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

/// The shell commands between `<!-- quickstart -->` markers, continuation lines joined.
func quickstartCommands() throws -> [String] {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let start = try #require(readme.range(of: "<!-- quickstart -->"))
    let end = try #require(readme.range(of: "<!-- /quickstart -->"))
    var commands: [String] = [], pending = ""
    for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n") {
        let text = String(line)
        if text.hasPrefix("```") || text.hasPrefix("#") || text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
        if text.hasSuffix("\\") { pending += text.dropLast() + " "; continue }
        commands.append(pending + text)
        pending = ""
    }
    return commands
}

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
    var outputs: [String] = []
    for command in commands {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", command.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(live.server.port)")]
        process.currentDirectoryURL = repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // `head -c` may close the pipe early; curl then exits 23, which is fine for a preview.
        #expect([0, 23].contains(process.terminationStatus), "\(command)")
        #expect(!text.contains("\"error\""), "\(command): \(text)")
        outputs.append(text)
    }
    #expect(outputs.contains { $0.contains(#""id":"demo""#) && $0.contains(#""rank":8"#) })
    #expect(outputs.contains { $0.contains(#""mode":"merged""#) && $0.contains(#""embeddings""#) })
    #expect(outputs.contains { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "204" })
    #expect(outputs.contains { $0.contains(#"{"tokens":[101,2023,2003,1037,3231,6251,1012,102]}"#) })
    #expect(outputs.contains { $0.contains(#"eckart_adapter_requests_total{adapter="demo"} 2"#) })
}
