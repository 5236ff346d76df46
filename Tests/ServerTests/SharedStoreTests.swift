// Two replicas, one adapter store: two Eckart servers on loopback share one store directory, as
// replicas behind the inference gateway share a ReadWriteMany volume. What one replica writes the
// other serves, replaces and deletes without a restart, and never as a half-written entry.
import FixtureSupport
import Foundation
import Testing

/// Two live servers on qwen2-tiny over the same adapter directory (each with its own AdapterStore,
/// locks and caches: they share only the files, as two processes do).
private func replicas() throws -> (a: LiveServer, b: LiveServer, stop: () -> Void) {
    let a = try LiveServer(model: "qwen2-tiny")
    let b = try LiveServer(model: "qwen2-tiny", adapterDirectory: a.adapterDirectory)
    return (a, b, {
        a.stop()
        b.stop()
        try? FileManager.default.removeItem(at: a.adapterDirectory)
    })
}

/// The logits `live` returns for the fixture's tokens on `adapter`, and the status. Unmerged, so two
/// servers' answers on one adapter are bitwise equal (`auto` would merge a hot adapter: other rounding).
private func logits(_ live: LiveServer, adapter: String) throws -> (status: Int, logits: [[Float]]) {
    let tokens = try Fixtures.expected("qwen2-tiny.qwen2-lora").tokens
    let reply = try live.post("/infer", json: #"{"adapter": "\#(adapter)", "mode": "unmerged", "tokens": \#(tokens), "return_logits": "all"}"#)
    return (reply.status, floats(reply.json["logits"]))
}

@Test func anAdapterUploadedThroughOneReplicaIsServedReplacedAndDeletedOnTheOther() throws {
    let (a, b, stop) = try replicas()
    defer { stop() }
    #expect(try a.upload(id: "shared", adapter: "qwen2-lora").status == 201)
    // B never saw the upload: it finds the entry in the store instead of answering 404.
    let onA = try logits(a, adapter: "shared"), onB = try logits(b, adapter: "shared")
    #expect(onA.status == 200 && onB.status == 200)
    #expect(!onB.logits.isEmpty && onB.logits == onA.logits)
    #expect(try b.request("GET", "/adapters/shared").json["variant"] as? String == "lora")

    // Replaced on A (a DoRA now): B serves the new weights, not its cached copy of the old.
    #expect(try a.upload(id: "shared", adapter: "qwen2-dora", query: "?replace=true").status == 201)
    let replacedOnA = try logits(a, adapter: "shared"), replacedOnB = try logits(b, adapter: "shared")
    #expect(replacedOnB.status == 200 && replacedOnB.logits == replacedOnA.logits)
    #expect(replacedOnB.logits != onB.logits, "B still serves the replaced adapter")
    #expect(try b.request("GET", "/adapters/shared").json["variant"] as? String == "dora")

    // Deleted on A: B answers 404 on every route that names it.
    #expect(try a.request("DELETE", "/adapters/shared").status == 204)
    #expect(try logits(b, adapter: "shared").status == 404)
    #expect(try b.request("GET", "/adapters/shared").status == 404)
    let ids = (try b.request("GET", "/adapters").json["adapters"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
    #expect(ids == [])
    // And B can upload the id again, which A then serves.
    #expect(try b.upload(id: "shared", adapter: "qwen2-lora").status == 201)
    #expect(try logits(a, adapter: "shared").logits == onA.logits)
}

@Test func concurrentUploadsThroughBothReplicasLoseNothing() throws {
    let (a, b, stop) = try replicas()
    defer { stop() }
    let perReplica = 8
    nonisolated(unsafe) var statuses: [String: Int] = [:]
    let lock = NSLock()
    let group = DispatchGroup()
    for (name, live) in [("a", a), ("b", b)] {
        for i in 0..<perReplica {
            group.enter()
            Thread {
                let id = "\(name)\(i)"
                let status = (try? live.upload(id: id, adapter: i % 2 == 0 ? "qwen2-lora" : "qwen2-dora").status) ?? -1
                lock.withLock { statuses[id] = status }
                group.leave()
            }.start()
        }
    }
    #expect(group.wait(timeout: .now() + 120) == .success)
    #expect(statuses.count == 2 * perReplica && statuses.values.allSatisfy { $0 == 201 }, "\(statuses)")
    let expected = (0..<perReplica).flatMap { ["a\($0)", "b\($0)"] }.sorted()
    for live in [a, b] {
        let ids = (try live.request("GET", "/adapters").json["adapters"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == expected)
    }
    // Each is served by the replica that did not receive it, and nothing but the entries (and the
    // lock file) is left in the store: no staging or aside directories.
    for i in 0..<perReplica {
        #expect(try logits(b, adapter: "a\(i)").status == 200)
        #expect(try logits(a, adapter: "b\(i)").status == 200)
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: a.adapterDirectory.path).filter { !expected.contains($0) }
    #expect(names == [".~lock"])
}

@Test func aReplicaNeverServesAHalfWrittenOrMixedEntry() throws {
    let (a, b, stop) = try replicas()
    defer { stop() }
    #expect(try a.upload(id: "flip", adapter: "qwen2-lora").status == 201)
    let lora = try logits(a, adapter: "flip").logits
    #expect(try a.upload(id: "flip", adapter: "qwen2-dora", query: "?replace=true").status == 201)
    let dora = try logits(a, adapter: "flip").logits
    #expect(lora != dora)

    // A replaces the entry back and forth while B infers on it: every answer B gives is one of the two
    // adapters (a LoRA config paired with DoRA weights, or a missing file, would be an error or other
    // logits).
    nonisolated(unsafe) var writerDone = false
    let lock = NSLock()
    let writer = DispatchGroup()
    writer.enter()
    nonisolated(unsafe) var replaced = 0
    Thread {
        for i in 0..<30 {
            if (try? a.upload(id: "flip", adapter: i % 2 == 0 ? "qwen2-lora" : "qwen2-dora", query: "?replace=true").status) == 201 {
                replaced += 1
            }
        }
        lock.withLock { writerDone = true }
        writer.leave()
    }.start()
    var answers = 0, unexpected: [String] = []
    while !lock.withLock({ writerDone }) {
        let reply = try logits(b, adapter: "flip")
        answers += 1
        if reply.status != 200 || (reply.logits != lora && reply.logits != dora) { unexpected.append("status \(reply.status)") }
    }
    #expect(writer.wait(timeout: .now() + 120) == .success)
    #expect(replaced == 30)
    #expect(answers > 0 && unexpected.isEmpty, "\(unexpected.count) of \(answers) answers were neither adapter: \(unexpected.prefix(5))")
}
