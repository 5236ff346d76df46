// The README's shell blocks, which tests run verbatim.
import Foundation

/// The package root (where README.md is).
public let repositoryRoot = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

/// The shell commands between `<!-- NAME -->` and `<!-- /NAME -->` in README.md, continuation lines
/// joined, comments and blank lines dropped.
public func readmeCommands(_ name: String) throws -> [String] {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    guard let start = readme.range(of: "<!-- \(name) -->"), let end = readme.range(of: "<!-- /\(name) -->") else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "README.md has no <!-- \(name) --> block"])
    }
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

/// Runs one README command with bash from the repository root against `port` where the README says
/// `readmePort`, `python3` being the test Python (ECKART_PYTHON).
public func runReadmeCommand(_ command: String, port: Int, readmePort: Int) throws -> ProcessRun {
    let python = ProcessInfo.processInfo.environment["ECKART_PYTHON"] ?? "python3"
    let shell = command.replacingOccurrences(of: "127.0.0.1:\(readmePort)", with: "127.0.0.1:\(port)")
        .replacingOccurrences(of: "python3 ", with: "\(python) ")
    return try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-o", "pipefail", "-c", shell], in: repositoryRoot)
}
