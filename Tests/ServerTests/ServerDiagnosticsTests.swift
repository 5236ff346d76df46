// GET /diagnostics/spectrum over real sockets: σ equal to LAPACK's SVD of the formed s·BA.
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

@Test func spectrumEndpointMatchesDenseSVD() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let reply = try live.request("GET", "/diagnostics/spectrum?adapter=sql&module=self_attn%5C.q_proj")
    #expect(reply.status == 200, "\(reply.text)")
    let modules = try #require(reply.json["modules"] as? [[String: Any]])
    #expect(modules.map { $0["name"] as? String } == ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"])
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: try BaseModel.load(directory: Fixtures.model("qwen2-tiny")))
    for module in modules {
        let update = adapter.updates[module["name"] as! String]!
        var product = update.b.times(update.a)
        product.scaleRows(by: Array(repeating: update.scale, count: product.rows))
        let dense = Array(try product.singularValues().prefix(update.rank))
        let served = (module["singular_values"] as! [NSNumber]).map { $0.floatValue }
        #expect(served.count == 8)
        for (x, y) in zip(served, dense) { #expect(abs(x - y) <= 1e-5 * dense[0]) }
        #expect((module["energy_rank"] as? [String: Int])?["0.99"] ?? 0 >= 1)
    }
    #expect((reply.json["summary"] as? [String: Any])?["modules"] as? Int == 2)
    #expect(try live.request("GET", "/diagnostics/spectrum?adapter=nope").status == 404)
    #expect(try live.request("GET", "/diagnostics/spectrum").status == 400)
    #expect(try live.request("GET", "/diagnostics/spectrum?adapter=sql&base=true").status == 400)
}

@Test func rankSweepEndpointReportsClosedFormErrors() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let reply = try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "sql"}"#)
    #expect(reply.status == 200, "\(reply.text)")
    let sweep = try #require(reply.json["sweep"] as? [[String: Any]])
    #expect(sweep.map { $0["rank"] as? Int } == [1, 2, 4, 8])
    let errors = sweep.map { ($0["relative_error"] as! NSNumber).doubleValue }
    #expect(errors == errors.sorted(by: >) && errors.last == 0 && errors[0] < 1)
    #expect((sweep.last?["modules"] as? [Any])?.count == 14)
    #expect(try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "sql", "ranks": []}"#).errorCode == "invalid_field")
    #expect(try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "nope"}"#).status == 404)
}

/// A module filter that sends a backtracking engine into exponential time is answered at once
/// (before BoundedRegex, this request held its handler thread forever); unsupported syntax and
/// over-long patterns are 400s that say why.
@Test func moduleFilterRunsInBoundedTime() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let start = ContinuousClock.now
    let reply = try live.request("GET", "/diagnostics/spectrum?adapter=sql&module=(.*.*)*%24x")
    #expect(reply.status == 200, "\(reply.text)")
    #expect((reply.json["modules"] as? [Any])?.count == 0)
    #expect(ContinuousClock.now - start < .seconds(10))

    let backreference = try live.request("GET", "/diagnostics/spectrum?adapter=sql&module=(q)%5C1")
    #expect(backreference.status == 400 && backreference.errorCode == "invalid_field")
    #expect(backreference.text.contains("backreference \\\\1"), "\(backreference.text)")
    let lookaround = try live.request("GET", "/diagnostics/spectrum?adapter=sql&module=q_proj(%3F!x)")
    #expect(lookaround.status == 200, "\(lookaround.text)")
    let long = try live.request("GET", "/diagnostics/spectrum?adapter=sql&module=" + String(repeating: "a", count: 1025))
    #expect(long.status == 400 && long.text.contains("at most 1024"), "\(long.text)")
}
