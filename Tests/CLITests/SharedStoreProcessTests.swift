// Two `eckart serve` processes sharing one --adapter-dir on loopback, as two replicas on a
// ReadWriteMany volume: an adapter uploaded through one is served by the other, replaced and deleted
// there without a restart, and concurrent uploads through both lose nothing.
import FixtureSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// One request to a ServeProcess: status and JSON body.
private func send(_ serve: ServeProcess, _ method: String, _ path: String, json: String? = nil) throws -> (status: Int, json: [String: Any]) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(serve.port)\(path)")!)
    request.httpMethod = method
    request.timeoutInterval = 30
    if let json {
        request.httpBody = Data(json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, [String: Any]) = (0, [:])
    URLSession.shared.dataTask(with: request) { data, response, _ in
        let body = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        result = ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + 35)
    return result
}

/// The unmerged logits of the qwen2-tiny fixture's tokens on `adapter`.
private func logits(_ serve: ServeProcess, _ adapter: String) throws -> (status: Int, logits: [[Double]]) {
    let tokens = try Fixtures.expected("qwen2-tiny.qwen2-lora").tokens
    let reply = try send(serve, "POST", "/infer", json: #"{"adapter": "\#(adapter)", "mode": "unmerged", "tokens": \#(tokens), "return_logits": "all"}"#)
    return (reply.status, (reply.json["logits"] as? [[Double]]) ?? [])
}

@Suite(.serialized) struct SharedStoreProcessTests {
    @Test func twoServeProcessesShareOneAdapterStore() throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-shared-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: store) }
        let arguments = ["--model", Fixtures.model("qwen2-tiny").path, "--adapter-dir", store.path,
                         "--adapter-root", Fixtures.directory.appendingPathComponent("adapters").path]
        let a = try ServeProcess(arguments), b = try ServeProcess(arguments)
        defer {
            a.stop()
            b.stop()
        }
        // Upload through A (by path under --adapter-root), infer through B.
        #expect(try send(a, "POST", "/adapters", json: #"{"id": "s", "path": "qwen2-lora"}"#).status == 201)
        let lora = try logits(a, "s"), onB = try logits(b, "s")
        #expect(lora.status == 200 && onB.status == 200 && !onB.logits.isEmpty && onB.logits == lora.logits, "\(onB.status)")
        // Replace through A: B serves the new weights.
        #expect(try send(a, "POST", "/adapters?replace=true", json: #"{"id": "s", "path": "qwen2-dora"}"#).status == 201)
        let dora = try logits(a, "s"), replacedOnB = try logits(b, "s")
        #expect(replacedOnB.status == 200 && replacedOnB.logits == dora.logits && dora.logits != lora.logits)
        // Delete through A: B answers 404.
        #expect(try send(a, "DELETE", "/adapters/s").status == 204)
        #expect(try logits(b, "s").status == 404)
        #expect(try send(b, "GET", "/adapters/s").status == 404)

        // Concurrent uploads of different ids through both: all stored, both list all of them.
        nonisolated(unsafe) var statuses: [String: Int] = [:]
        let lock = NSLock(), group = DispatchGroup()
        for (name, serve) in [("a", a), ("b", b)] {
            for i in 0..<6 {
                group.enter()
                Thread {
                    let path = i % 2 == 0 ? "qwen2-lora" : "qwen2-dora"
                    let status = (try? send(serve, "POST", "/adapters", json: #"{"id": "\#(name)\#(i)", "path": "\#(path)"}"#).status) ?? -1
                    lock.withLock { statuses["\(name)\(i)"] = status }
                    group.leave()
                }.start()
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        #expect(statuses.count == 12 && statuses.values.allSatisfy { $0 == 201 }, "\(statuses)")
        let expected = (0..<6).flatMap { ["a\($0)", "b\($0)"] }.sorted()
        for serve in [a, b] {
            let ids = (try send(serve, "GET", "/adapters").json["adapters"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == expected)
        }
        #expect(try logits(b, "a5").logits == dora.logits && logits(a, "b4").logits == lora.logits)
    }
}
