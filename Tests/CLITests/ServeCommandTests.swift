// `eckart serve` as a process: the served model's name, the store it names, adapters loaded at start
// with --lora-modules, and what the log says.
import FixtureSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A running `eckart serve` in a scratch working directory; its stderr is collected.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let directory: URL
    private let lock = NSLock()
    private var errorText = ""
    private(set) var port = 0

    /// `environment` is added to the test's own.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = eckartBinary
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errorText += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            // The port is bound (and logged) before the model loads; requests wait for "ready on".
            if let range = log.range(of: #"ready on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last!)!
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "eckart serve did not start: \(log)"])
    }

    var log: String { lock.withLock { errorText } }

    func get(_ path: String) throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [String: Any]) = (0, [:])
        URLSession.shared.dataTask(with: request) { data, response, _ in
            let json = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 15)
        return result
    }

    /// `timeout`: seconds to wait for the reply (generation in a debug build on the portable kernels is slow).
    func post(_ path: String, json: String, timeout: Double = 10) throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = timeout
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [String: Any]) = (0, [:])
        URLSession.shared.dataTask(with: request) { data, response, _ in
            let json = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + timeout + 5)
        return result
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite(.serialized) struct ServeCommandTests {
    /// `--served-model-name` names the model in /v1/models and the default store; --lora-modules
    /// loads an adapter before the server listens; without Public/ the log says the dashboard is off.
    @Test func servedNameStoreAndLoRAModules() throws {
        let serve = try ServeProcess(["--model", Fixtures.model("qwen2-tiny").path + "/", "--served-model-name", "tiny",
                                      "--lora-modules", "sql=\(Fixtures.adapter("qwen2-lora").path)"])
        defer { serve.stop() }
        let models = try serve.get("/v1/models")
        let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == ["tiny", "sql"], "\(models.json)")
        #expect(FileManager.default.fileExists(atPath: serve.directory.appendingPathComponent("data/adapters/tiny/sql/adapter_config.json").path))
        #expect(serve.log.contains("adapter sql loaded from"))
        #expect(serve.log.contains("dashboard off") && !serve.log.contains("dashboard at"), "\(serve.log)")
        // A failed request's log line names its error and carries its request id.
        #expect(try serve.get("/adapters/nope").status == 404)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(serve.log.range(of: #"GET /adapters/nope 404 [0-9.]+ms \[[0-9a-f]{16}\] adapter_not_found: "#, options: .regularExpression) != nil,
                "\(serve.log)")
    }

    /// `make serve MODEL_DIR=path/` put every model's adapters in data/adapters/ itself.
    @Test func aTrailingSlashStillNamesTheStore() throws {
        let serve = try ServeProcess(["--model", Fixtures.model("qwen2-tiny").path + "/"])
        defer { serve.stop() }
        let models = try serve.get("/v1/models")
        #expect((models.json["data"] as? [[String: Any]])?.first?["id"] as? String == "qwen2-tiny")
        #expect(serve.log.contains("registered from data/adapters/qwen2-tiny"), "\(serve.log)")
    }

    /// A refused --lora-modules adapter stops the start, naming it.
    @Test func aRefusedLoRAModuleStopsTheStart() throws {
        #expect(throws: (any Error).self) {
            let serve = try ServeProcess(["--model", Fixtures.model("qwen2-tiny").path,
                                          "--lora-modules", "l=\(Fixtures.adapter("llama-dora").path)"])
            serve.stop()
        }
    }

    /// The port is bound before the model loads, so a port already taken fails the start at once,
    /// naming it, instead of after a long load.
    @Test func aTakenPortFailsBeforeTheModelLoads() throws {
        let first = try ServeProcess(["--model", Fixtures.model("qwen2-tiny").path])
        defer { first.stop() }
        let second = Process()
        second.executableURL = eckartBinary
        second.arguments = ["serve", "--port", "\(first.port)", "--model", Fixtures.model("qwen2-tiny").path,
                            "--adapter-dir", first.directory.appendingPathComponent("other").path]
        let stderr = Pipe()
        second.standardError = stderr
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus != 0)
        #expect(text.contains("\(first.port)") && !text.contains("loaded "), "\(text)")
    }

    /// A tokenizer.json Eckart cannot read used to leave one warning in the log and requests told
    /// "no tokenizer.json"; now they are told what failed.
    @Test func aBrokenTokenizerIsNamedInRequests() throws {
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-broken-tokenizer-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.model("qwen2-tiny"), to: model)
        defer { try? FileManager.default.removeItem(at: model) }
        try Data(#"{"model": {"type": "Unigram", "vocab": []}}"#.utf8).write(to: model.appendingPathComponent("tokenizer.json"))
        let serve = try ServeProcess(["--model", model.path])
        defer { serve.stop() }
        let reply = try serve.post("/tokenize", json: #"{"text": "hi"}"#)
        let error = reply.json["error"] as? [String: Any]
        #expect(reply.status == 400 && error?["code"] as? String == "tokenizer_failed", "\(reply.json)")
        #expect((error?["message"] as? String)?.contains("Unigram") == true, "\(reply.json)")
    }

    /// An encoder has no chat, so its tokenizer_config.json's template is not read (it used to warn).
    @Test(.enabled(if: Fixtures.miniLM != nil, "needs ECKART_MINILM_DIR"))
    func anEncoderDoesNotWarnAboutChat() throws {
        let serve = try ServeProcess(["--model", Fixtures.miniLM!.path])
        defer { serve.stop() }
        #expect(!serve.log.lowercased().contains("chat"), "\(serve.log)")
    }
}
