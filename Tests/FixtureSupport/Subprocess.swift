// Runs a helper program (a Python check, sha256sum, curl, the eckart binary) and collects its output.
import Foundation

/// What a finished process printed, and how it exited.
public struct ProcessRun: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: String

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard output then standard error, for failure messages.
    public var combinedText: String { stdoutText + stderr }
}

/// Runs `executable` with `arguments` (in `directory` if given) to completion. Standard error goes
/// through a temporary file, so a chatty process cannot block on a full pipe while standard output
/// is being read.
public func runProcess(_ executable: URL, _ arguments: [String], in directory: URL? = nil) throws -> ProcessRun {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-stderr-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorLog) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorLog)
    try process.run()
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderr = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
    return ProcessRun(status: process.terminationStatus, stdout: stdout, stderr: stderr)
}
