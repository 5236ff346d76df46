// Probes never wait behind inference: with 200 generations queued (each holding its request's
// handler while it waits for the engine), /healthz, /readyz and /metrics still answer at once.
import FixtureSupport
import Foundation
import Glibc
import Testing

@Test func probesAnswerWith200GenerationsQueued() throws {
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 8192 }
    // One generation runs at a time, so the other 199 wait in the engine's queue for minutes.
    let live = try LiveServer(model: "qwen2-bl", modelDirectory: directory) { $0.maxRunning = 1 }
    defer { live.stop() }
    let json = #"{"tokens": [1, 2, 3], "max_tokens": 4096, "ignore_eos": true, "stream": true}"#
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    for _ in 0..<200 {
        let fd = try live.connectedSocket()
        let request = "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        sockets.append(fd)
    }
    // Wait until they are all in: one running, 199 waiting.
    let deadline = Date().addingTimeInterval(60)
    var waiting = 0.0
    while waiting < 199 && Date() < deadline {
        let text = try live.request("GET", "/metrics").text
        waiting = text.split(separator: "\n").first { $0.hasPrefix("vllm:num_requests_waiting ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        if waiting < 199 { Thread.sleep(forTimeInterval: 0.05) }
    }
    #expect(waiting == 199)

    // The probes answer while every one of those handlers waits (the client gives each 10 s; a
    // probe stuck behind the generations would wait for minutes).
    var seconds: [Double] = []
    for i in 0..<60 {
        let path = ["/healthz", "/readyz", "/metrics"][i % 3]
        let start = Date()
        let reply = try live.request("GET", path)
        seconds.append(Date().timeIntervalSince(start))
        #expect(reply.status == 200, "\(path): \(reply.status)")
    }
    let p99 = seconds.sorted()[Int(Double(seconds.count - 1) * 0.99)]
    print("probe latency with 199 generations waiting: p50 \(seconds.sorted()[seconds.count / 2] * 1000) ms, p99 \(p99 * 1000) ms")
}
