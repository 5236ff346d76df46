// Concurrent /infer requests on an encoder run as one forward pass, each with its own adapter, and
// each gets the embeddings it gets alone.
import FixtureSupport
import Foundation
@testable import Server
import Testing

@Test func concurrentEncoderRequestsShareOneForwardPass() throws {
    let live = try LiveServer(model: "bert-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "lora", adapter: "bert-lora").status == 201)
    #expect(try live.upload(id: "dora", adapter: "bert-dora").status == 201)
    let bodies = [
        #"{"tokens": [[5, 9, 14]]}"#,
        #"{"tokens": [[7, 3, 3, 12, 30, 2, 8], [4, 4]], "adapter": "lora"}"#,
        #"{"tokens": [[4, 11, 6, 1]], "adapter": "dora", "mode": "unmerged"}"#,
        #"{"tokens": [[9]], "adapters": [{"id": "lora", "scale": 0.5}]}"#,
    ]
    func embeddings(_ reply: LiveServer.Reply) -> [[Double]] { reply.json["embeddings"] as? [[Double]] ?? [] }
    let alone = try bodies.map { body -> [[Double]] in
        let reply = try live.post("/infer", json: body)
        #expect(reply.status == 200 && reply.json["batch_requests"] as? Int == 1, "\(reply.text)")
        return embeddings(reply)
    }

    // Hold the engine's slot so that all four requests are queued, then let them go together.
    guard let batcher = live.server.service.encoderBatcher else { Issue.record("no encoder batcher"); return }
    let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { live.server.service.scheduler.run { held.signal(); release.wait() } }
    held.wait()
    let before = batcher.counts
    let replies = ReplyBox(count: bodies.count)
    let group = DispatchGroup()
    for (i, body) in bodies.enumerated() {
        DispatchQueue.global().async(group: group) { replies.set(i, try? live.post("/infer", json: body)) }
    }
    let deadline = Date().addingTimeInterval(20)
    while batcher.queuedRequests < bodies.count, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    #expect(batcher.queuedRequests == bodies.count)
    release.signal()
    group.wait()
    #expect(batcher.counts.batches == before.batches + 1 && batcher.counts.requests == before.requests + bodies.count)
    for (i, reply) in replies.values.enumerated() {
        guard let reply else { Issue.record("request \(i) failed"); continue }
        #expect(reply.status == 200 && reply.json["batch_requests"] as? Int == bodies.count, "\(reply.text)")
        let batched = embeddings(reply)
        #expect(batched.count == alone[i].count)
        let difference = zip(batched.joined(), alone[i].joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < Double(Tolerance.samePath), "request \(i): max |Δ| \(difference)")
    }
}

/// Replies collected from several threads.
private final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var replies: [LiveServer.Reply?]
    init(count: Int) { replies = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ reply: LiveServer.Reply?) { lock.withLock { replies[i] = reply } }
    var values: [LiveServer.Reply?] { lock.withLock { replies } }
}
