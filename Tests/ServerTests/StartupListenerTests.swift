// Bound before the model loads: alive, not ready, every other route 503 with Retry-After; then the
// server's routes take the same socket over and /readyz says ready.
import FixtureSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Models
import Server
import Testing

@Test func theListenerAnswersWhileLoadingThenHandsOver() throws {
    var options = ServerOptions()
    options.port = 0
    options.adapterDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-startup-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: options.adapterDirectory) }
    options.modelName = "qwen2-tiny"
    let listener = try StartupListener(options: options)
    let client = LoadingProbe(port: listener.port)
    #expect(try client.get("/healthz").status == 200)
    #expect(try client.get("/readyz").status == 503)
    let infer = try client.get("/model")
    #expect(infer.status == 503 && infer.text.contains("loading") && infer.retryAfter == "5", "\(infer.text)")

    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let server = try EckartServer(model: model, options: options, listener: listener)
    defer { server.shutdown(timeout: 5) }
    #expect(try client.get("/readyz").status == 503)   // built, not yet started
    try server.start()
    #expect(server.port == listener.port)
    #expect(try client.get("/readyz").status == 200)
    #expect(try client.get("/model").status == 200)
}

/// GETs over URLSession, keeping the Retry-After header.
private struct LoadingProbe {
    let port: Int
    struct Reply { let status: Int; let text: String; let retryAfter: String? }

    func get(_ path: String) throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Reply, any Error> = .failure(URLError(.timedOut))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) } else {
                let http = response as! HTTPURLResponse
                result = .success(Reply(status: http.statusCode, text: String(decoding: data ?? Data(), as: UTF8.self),
                                        retryAfter: http.value(forHTTPHeaderField: "Retry-After")))
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 15)
        return try result.get()
    }
}
