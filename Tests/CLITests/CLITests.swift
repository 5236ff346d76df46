// The `eckart` executable end to end: JSON shapes on stdout, errors on stderr with a non-zero exit.
import FixtureSupport
import Foundation
import LinearAlgebra
import Testing

/// The built `eckart` binary next to the test bundle.
let eckartBinary: URL = {
    var directory = Bundle.main.bundleURL
    if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("eckart").path) {
        // swift test runs the bundle from the build products directory on Linux.
        directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
    return directory.appendingPathComponent("eckart")
}()

func eckart(_ arguments: [String]) throws -> ProcessRun {
    try runProcess(eckartBinary, arguments)
}

struct LogitsOutput: Decodable { let logits: [[Float]] }
struct EmbedOutput: Decodable {
    let embedding: [Float]
    let lastHiddenState: [[Float]]
    enum CodingKeys: String, CodingKey { case embedding; case lastHiddenState = "last_hidden_state" }
}

@Test(arguments: ["unmerged", "merged"])
func logitsCommandMatchesPeft(mode: String) throws {
    let expected = try Fixtures.expected("qwen2-tiny.qwen2-lora")
    let run = try eckart(["logits", "--model", Fixtures.model("qwen2-tiny").path, "--adapter", Fixtures.adapter("qwen2-lora").path,
                          "--mode", mode, "--tokens", expected.tokens.map(String.init).joined(separator: ",")])
    #expect(run.status == 0, "\(run.stderr)")
    let output = try JSONDecoder().decode(LogitsOutput.self, from: run.stdout)
    let reference = Matrix(nestedRows: mode == "merged" ? expected.mergedLogits! : expected.logits!)
    #expect(Matrix(nestedRows: output.logits).maxAbsDifference(reference) < Tolerance.reference)
}

@Test func logitsCommandWithoutAdapterMatchesTransformers() throws {
    let expected = try Fixtures.expected("llama-tiny.base")
    let run = try eckart(["logits", "--model", Fixtures.model("llama-tiny").path, "--tokens", expected.tokens.map(String.init).joined(separator: ",")])
    #expect(run.status == 0, "\(run.stderr)")
    let output = try JSONDecoder().decode(LogitsOutput.self, from: run.stdout)
    #expect(Matrix(nestedRows: output.logits).maxAbsDifference(Matrix(nestedRows: expected.logits!)) < Tolerance.reference)
}

@Test(arguments: ["unmerged", "merged"])
func embedCommandMatchesPeft(mode: String) throws {
    let expected = try Fixtures.expected("bert-tiny.bert-dora")
    let run = try eckart(["embed", "--model", Fixtures.model("bert-tiny").path, "--adapter", Fixtures.adapter("bert-dora").path,
                          "--mode", mode, "--tokens", expected.tokens.map(String.init).joined(separator: ",")])
    #expect(run.status == 0, "\(run.stderr)")
    let output = try JSONDecoder().decode(EmbedOutput.self, from: run.stdout)
    #expect(maxAbsDifference(output.embedding, expected.embedding!) < Tolerance.reference)
    #expect(Matrix(nestedRows: output.lastHiddenState).maxAbsDifference(Matrix(nestedRows: expected.lastHiddenState!)) < Tolerance.reference)
}

@Test func errorsGoToStderrWithNonZeroExit() throws {
    let missing = try eckart(["logits", "--model", "/nonexistent/model", "--tokens", "1,2"])
    #expect(missing.status != 0)
    #expect(missing.stdout.isEmpty)
    #expect(missing.stderr.contains("/nonexistent/model"))

    let badTokens = try eckart(["logits", "--model", Fixtures.model("qwen2-tiny").path, "--tokens", "1,x"])
    #expect(badTokens.status != 0)
    #expect(badTokens.stderr.contains("--tokens"))

    let outOfRange = try eckart(["logits", "--model", Fixtures.model("qwen2-tiny").path, "--tokens", "1,9999"])
    #expect(outOfRange.status != 0)
    #expect(outOfRange.stderr.contains("9999"))

    let wrongCommand = try eckart(["embed", "--model", Fixtures.model("qwen2-tiny").path, "--tokens", "1"])
    #expect(wrongCommand.status != 0)
    #expect(wrongCommand.stderr.contains("logits"))
}

/// `eckart --version` prints the version defined once in the executable, the number openapi.yaml states.
@Test func versionIsPrinted() throws {
    let run = try eckart(["--version"])
    #expect(run.status == 0, "\(run.stderr)")
    let version = run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." }, "\(version)")
    let spec = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("openapi.yaml"), encoding: .utf8)
    #expect(spec.contains("  version: \(version)\n"))
}

/// `--threads` help states its default once ("every core"), not also as this machine's core count.
@Test(arguments: ["logits", "bench"])
func threadsHelpStatesTheDefaultOnce(command: String) throws {
    let run = try eckart([command, "--help"])
    // The option's entry: from its line to the next option (its help may wrap onto more lines).
    let start = try #require(run.stdoutText.range(of: "\n  --threads"))
    let rest = run.stdoutText[start.upperBound...]
    let entry = rest[..<(rest.range(of: "\n  -")?.lowerBound ?? rest.endIndex)]
    #expect(entry.components(separatedBy: "default").count == 2, "\(entry)")
}
