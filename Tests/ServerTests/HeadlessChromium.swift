// Runs Debian's `chromium` headless for the dashboard test: --dump-dom or --screenshot of one URL,
// each run in its own throw-away profile, killed if it outlives its timeout.
import Foundation

struct HeadlessChromium {
    let executable: URL

    /// `ECKART_CHROMIUM`, else /usr/bin/chromium; nil when neither is an executable file.
    static func find() -> HeadlessChromium? {
        let path = ProcessInfo.processInfo.environment["ECKART_CHROMIUM"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/chromium"
        return FileManager.default.isExecutableFile(atPath: path) ? HeadlessChromium(executable: URL(fileURLWithPath: path)) : nil
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String

        /// The page's uncaught exceptions and refused loads (CSP), as Chromium logs them.
        var pageErrors: [String] {
            stderr.split(separator: "\n").map(String.init)
                .filter { $0.contains(":CONSOLE") && ($0.contains("Uncaught") || $0.contains("Refused to")) }
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        let seconds: Double
        var description: String { "chromium did not finish within \(seconds) s" }
    }

    /// The page's DOM after its scripts ran for up to `budget` ms of virtual time (which waits for
    /// network fetches, so slow API answers still arrive).
    func dumpDOM(_ url: URL, budget: Int = 30_000, window: (Int, Int) = (1280, 1600)) throws -> Run {
        try run(["--dump-dom", "--virtual-time-budget=\(budget)", "--window-size=\(window.0),\(window.1)", url.absoluteString])
    }

    /// A PNG of the viewport after the same wait.
    func screenshot(_ url: URL, to file: URL, budget: Int = 30_000, window: (Int, Int) = (1280, 1600)) throws -> Run {
        try run(["--screenshot=\(file.path)", "--hide-scrollbars", "--virtual-time-budget=\(budget)",
                 "--window-size=\(window.0),\(window.1)", url.absoluteString])
    }

    private func run(_ arguments: [String], timeout: Double = 120) throws -> Run {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = executable
        // CI runs as root, where Chromium refuses its sandbox; the page is our own, served on loopback.
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--no-default-browser-check", "--disable-extensions", "--enable-logging=stderr", "--v=0",
                             "--user-data-dir=\(profile.path)"] + arguments
        let stdout = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-chromium-\(UUID().uuidString).out")
        let stderr = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-chromium-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: stdout)
            try? FileManager.default.removeItem(at: stderr)
        }
        let out = try FileHandle(forWritingTo: stdout), err = try FileHandle(forWritingTo: stderr)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = finished.wait(timeout: .now() + 5)
            throw TimedOut(seconds: timeout)
        }
        try out.close()
        try err.close()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOf: stdout, encoding: .utf8),
                   stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }
}
