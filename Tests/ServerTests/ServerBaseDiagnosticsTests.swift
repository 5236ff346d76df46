// GET /diagnostics/spectrum?base=true (blocking and SSE, cached by content) and
// GET /diagnostics/alignment over real sockets, including the refusals.
import Adapters
import Diagnostics
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

private func liveServer(_ model: String, cache: URL) throws -> LiveServer {
    try LiveServer(model: model) { $0.diagnosticsCacheDirectory = cache }
}

private func scratchDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("eckart-diag-\(UUID().uuidString)")
}

@Test func baseSpectrumIsComputedThenCached() throws {
    let cache = scratchDirectory()
    defer { try? FileManager.default.removeItem(at: cache) }
    let live = try liveServer("bert-tiny", cache: cache)
    defer { live.stop() }
    let first = try live.request("GET", "/diagnostics/spectrum?base=true")
    #expect(first.status == 200, "\(first.text)")
    #expect(first.json["base"] as? Bool == true && first.json["model"] as? String == "bert-tiny")
    #expect(first.json["cached"] as? Bool == false)
    let modules = try #require(first.json["modules"] as? [[String: Any]])
    let model = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    #expect(modules.map { $0["name"] as? String } == model.linearModules.map(\.name))
    for module in modules {
        let w = model.linear(named: module["name"] as! String)!.weight
        #expect(module["shape"] as? [Int] == w.shape)
        let frobenius = w.storage.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(((module["frobenius_norm"] as? NSNumber)?.doubleValue ?? 0) - frobenius) <= 1e-4 * frobenius)
        #expect((module["singular_values"] as? [Any])?.count == 32)
        #expect(Set((module["energy_rank"] as? [String: Int])?.keys ?? [:].keys) == ["0.90", "0.95", "0.99"])
    }
    let table = try #require(first.json["table"] as? [[String: Any]])
    #expect(table.map { $0["projection"] as? String }
            == ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense", "pooler.dense"])
    #expect(table.first?["full_rank"] as? Int == 32 && table.first?["modules"] as? Int == 2)
    #expect((first.json["summary"] as? [String: Any])?["modules"] as? Int == 13)
    #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".sigma") }.count == 13)

    let second = try live.request("GET", "/diagnostics/spectrum?base=true")
    #expect(second.json["cached"] as? Bool == true)
    #expect((second.json["modules"] as? NSArray) == (first.json["modules"] as? NSArray))
    #expect((second.json["table"] as? NSArray) == (first.json["table"] as? NSArray))

    // A restarted server finds the disk cache.
    let restarted = try liveServer("bert-tiny", cache: cache)
    defer { restarted.stop() }
    let third = try restarted.request("GET", "/diagnostics/spectrum?base=true&module=query")
    #expect(third.json["cached"] as? Bool == true)
    #expect((third.json["modules"] as? [[String: Any]])?.count == 2)
    #expect((third.json["table"] as? [[String: Any]])?.map { $0["projection"] as? String } == ["query"])
}

@Test func baseSpectrumStreamsProgressThenTheResult() throws {
    let cache = scratchDirectory()
    defer { try? FileManager.default.removeItem(at: cache) }
    let live = try liveServer("qwen2-tiny", cache: cache)
    defer { live.stop() }
    let reply = try live.request("GET", "/diagnostics/spectrum?base=true&module=self_attn", headers: ["Accept": "text/event-stream"])
    #expect(reply.status == 200)
    // Events are "event: NAME\ndata: JSON\n\n".
    let events = reply.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { block -> (String, [String: Any]) in
        let lines = block.split(separator: "\n")
        let name = String(lines.first { $0.hasPrefix("event: ") }?.dropFirst(7) ?? "")
        let data = lines.first { $0.hasPrefix("data: ") }.map { Data($0.dropFirst(6).utf8) } ?? Data()
        return (name, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }
    #expect(events.map(\.0) == Array(repeating: "progress", count: 8) + ["result"])
    #expect(events.prefix(8).map { $0.1["done"] as? Int } == Array(1...8))
    #expect(events.prefix(8).allSatisfy { $0.1["total"] as? Int == 8 && $0.1["cached"] as? Bool == false })
    #expect(events[0].1["module"] as? String == "model.layers.0.self_attn.q_proj")
    let result = try #require(events.last?.1)
    #expect((result["modules"] as? [Any])?.count == 8 && result["cached"] as? Bool == false)
    #expect((result["table"] as? [[String: Any]])?.map { $0["projection"] as? String } == ["q_proj", "k_proj", "v_proj", "o_proj"])

    let again = try live.request("GET", "/diagnostics/spectrum?base=true&module=self_attn", headers: ["Accept": "text/event-stream"])
    #expect(again.text.contains(#""cached":true"#) && !again.text.contains(#""cached":false"#))
}

@Test func alignmentEndpointMatchesTheLibrary() throws {
    let cache = scratchDirectory()
    defer { try? FileManager.default.removeItem(at: cache) }
    let live = try liveServer("bert-tiny", cache: cache)
    defer { live.stop() }
    #expect(try live.upload(id: "b", adapter: "bert-lora").status == 201)
    let reply = try live.request("GET", "/diagnostics/alignment?adapter=b&module=query&top=5")
    #expect(reply.status == 200, "\(reply.text)")
    #expect(reply.json["adapter"] as? String == "b" && reply.json["top"] as? Int == 5)
    let modules = try #require(reply.json["modules"] as? [[String: Any]])
    #expect(modules.map { $0["name"] as? String } == ["encoder.layer.0.attention.self.query", "encoder.layer.1.attention.self.query"])
    let model = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("bert-lora"), model: model)
    var intruders = 0
    for module in modules {
        let name = module["name"] as! String
        let w = model.linear(named: name)!.weight
        let expected = try SubspaceAlignment.module(name: name, weight: w, base: try w.svd(), update: adapter.updates[name]!, top: 5)
        let overlap = try #require(module["subspace_overlap"] as? [String: Double])
        #expect(abs(overlap["left"]! - expected.leftOverlap) < 1e-6 && abs(overlap["right"]! - expected.rightOverlap) < 1e-6)
        #expect(module["intruder_dimensions"] as? Int == expected.intruderDimensions)
        #expect((module["intruder_cosines"] as? [Double])?.count == 10)
        intruders += expected.intruderDimensions
    }
    let summary = try #require(reply.json["summary"] as? [String: Any])
    #expect(summary["total_intruder_dimensions"] as? Int == intruders)
    #expect(summary["modules"] as? Int == 2)
    // Default K is the adapter's rank (4 for every module of this fixture).
    #expect(try live.request("GET", "/diagnostics/alignment?adapter=b").json["top"] as? Int == 4)
}

@Test func baseDiagnosticsRefuseBadInput() throws {
    let cache = scratchDirectory()
    defer { try? FileManager.default.removeItem(at: cache) }
    let live = try liveServer("bert-tiny", cache: cache)
    defer { live.stop() }
    #expect(try live.upload(id: "b", adapter: "bert-lora").status == 201)
    let cases: [(String, Int, String)] = [
        ("/diagnostics/alignment?adapter=nope", 404, "base adapter not found"),
        ("/diagnostics/alignment", 400, "adapter is required"),
        ("/diagnostics/alignment?adapter=b&module=%28", 400, "not a valid regular expression"),
        ("/diagnostics/alignment?adapter=b&top=0", 400, "top must be an integer"),
        ("/diagnostics/alignment?adapter=b&top=two", 400, "top must be an integer"),
        ("/diagnostics/alignment?adapter=b&rank=2", 400, "unknown query parameter rank"),
        ("/diagnostics/spectrum?base=true&adapter=b", 400, "takes no adapter"),
        ("/diagnostics/spectrum?base=false", 400, "base must be true"),
        ("/diagnostics/spectrum?base=true&module=%5B", 400, "not a valid regular expression"),
        ("/diagnostics/spectrum?base=true&top=3", 400, "unknown query parameter top"),
    ]
    for (path, status, message) in cases {
        let reply = try live.request("GET", path)
        #expect(reply.status == status, "\(path): \(reply.text)")
        if status == 400 { #expect(reply.text.contains(message), "\(path): \(reply.text)") }
    }
    #expect(try live.request("GET", "/healthz").status == 200)
}
