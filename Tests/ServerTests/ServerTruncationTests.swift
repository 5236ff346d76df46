// Rank sweeps with probes and budgets, POST /adapters/{id}/truncate and truncation on upload, over
// real sockets: the stored truncated adapter is what peft loads (Tests/Fixtures/truncation).
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

@Test func rankSweepWithProbeReportsOutputEffects() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let reply = try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "sql", "ranks": [1, 4, 8], "probe": {"tokens": [[5, 9, 17, 3], [200, 1]]}}"#)
    #expect(reply.status == 200, "\(reply.text)")
    let probe = try #require(reply.json["probe"] as? [String: Any])
    #expect(probe["sequences"] as? Int == 2 && probe["tokens"] as? Int == 6)
    let fullLoss = try #require((probe["full_adapter_loss"] as? NSNumber)?.doubleValue)
    let rows = try #require(reply.json["sweep"] as? [[String: Any]])
    let metrics = rows.map { $0["probe"] as! [String: Any] }
    let kl = metrics.map { ($0["mean_kl"] as! NSNumber).doubleValue }
    #expect(kl[0] > kl[1] && kl[1] > kl[2] && kl[2] < 1e-9)
    #expect(abs(((metrics[2]["loss"] as! NSNumber).doubleValue) - fullLoss) < 1e-5)
    #expect(abs((metrics[2]["perplexity"] as! NSNumber).doubleValue - exp(fullLoss)) < 1e-3)
    #expect((metrics[0]["max_abs_logit_difference"] as! NSNumber).doubleValue > 1e-2)
}

@Test func rankSweepAllocatesABudgetGreedily() throws {
    let live = try LiveServer(model: "llama-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "rs", adapter: "llama-rslora-patterns").status == 201)
    let reply = try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "rs", "budget_params": 2000}"#)
    #expect(reply.status == 200, "\(reply.text)")
    let allocation = try #require(reply.json["allocation"] as? [String: Any])
    #expect((allocation["goal"] as? [String: Int])?["budget_params"] == 2000)
    let parameters = try #require(allocation["parameters"] as? Int)
    #expect(parameters <= 2000 && parameters > 0)
    let modules = try #require(allocation["modules"] as? [[String: Any]])
    #expect(modules.count == 6)
    let energy = try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "rs", "energy": 0.9}"#)
    let kept = try #require(((energy.json["allocation"] as? [String: Any])?["energy_kept"] as? NSNumber)?.doubleValue)
    #expect(kept >= 0.9 && kept < 1)
}

@Test(arguments: [
    (#"{"adapter": "nope"}"#, 404, "adapter_not_found"),
    (#"{"adapter": "sql", "ranks": [-1]}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "ranks": [2], "energy": 0.9}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "energy": 0.9, "budget_params": 100}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "energy": 1.5}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "energy": 0}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "budget_params": -3}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "probe": {"tokens": [[1, 256]]}}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "probe": {"tokens": [[]]}}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "probe": {"tokens": []}}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "probe": {"ids": [[1]]}}"#, 400, "invalid_field"),
    (#"{"adapter": "sql", "probe": [[1, 2]]}"#, 400, "invalid_field"),
] as [(String, Int, String)])
func rankSweepRefusesBadInput(_ c: (String, Int, String)) throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let reply = try live.post("/diagnostics/rank-sweep", json: c.0)
    #expect(reply.status == c.1 && reply.errorCode == c.2, "\(c.0): \(reply.text)")
}

@Test func probesBeyondThePositionsOrTheTokenCapAreRefused() throws {
    let live = try LiveServer(model: "qwen2-tiny")   // max_position_embeddings 128
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    func probe(_ sequences: [Int]) -> String {
        let rows = sequences.map { "[" + Array(repeating: "1", count: $0).joined(separator: ",") + "]" }
        return #"{"adapter": "sql", "ranks": [1], "probe": {"tokens": ["# + rows.joined(separator: ",") + "]}}"
    }
    let long = try live.post("/diagnostics/rank-sweep", json: probe([129]))
    #expect(long.status == 400 && long.text.contains("at most 128"), "\(long.text)")
    let many = try live.post("/diagnostics/rank-sweep", json: probe(Array(repeating: 128, count: 33)))
    #expect(many.status == 400 && many.text.contains("at most 4096"), "\(many.text)")
    #expect(try live.post("/diagnostics/rank-sweep", json: probe([128])).status == 200)
}

@Test func truncateEndpointStoresWhatPeftLoads() throws {
    let live = try LiveServer(model: "llama-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "dora", adapter: "llama-dora").status == 201)
    let reply = try live.post("/adapters/dora/truncate", json: #"{"new_id": "dora-r2", "rank": 2}"#)
    #expect(reply.status == 201, "\(reply.text)")
    #expect(reply.json["id"] as? String == "dora-r2" && reply.json["rank"] as? Int == 2 && reply.json["variant"] as? String == "dora")
    let truncation = try #require(reply.json["truncation"] as? [String: Any])
    #expect(truncation["source"] as? String == "dora" && truncation["from_rank"] as? Int == 4)
    #expect((truncation["parameters_after"] as! Int) < (truncation["parameters_before"] as! Int))
    // The registered adapter gives peft's logits for the same truncation (fixture llama-dora-r2).
    let expected = try JSONDecoder().decode(ExpectedOutput.self, from: Data(contentsOf:
        Fixtures.directory.appendingPathComponent("truncation/expected/llama-dora-r2.json")))
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let stored = try LoRAAdapter(directory: live.adapterDirectory.appendingPathComponent("dora-r2"), model: model)
    guard case .decoder(let decoder) = model else { return }
    let logits = try decoder.logits(tokens: expected.tokens, overlay: UnmergedAdapter(stored))
    // fp32 policy: 1e-4 absolute on logits.
    #expect(maxAbsDifference(logits.storage, expected.logits!.flatMap { $0 }) <= 1e-4)
    // Its files download as written, and load in Eckart with the new ranks.
    let config = try live.request("GET", "/adapters/dora-r2/files/adapter_config.json")
    #expect(config.status == 200)
    let object = try #require(try JSONSerialization.jsonObject(with: config.body) as? [String: Any])
    #expect(object["r"] as? Int == 2 && object["use_dora"] as? Bool == true)

    for (body, status, code) in [
        (#"{"new_id": "dora-r2", "rank": 2}"#, 409, "adapter_exists"),
        (#"{"new_id": "x", "rank": 0}"#, 400, "invalid_field"),
        (#"{"new_id": "x", "rank": 2, "energy": 0.9}"#, 400, "invalid_field"),
        (#"{"new_id": "x", "energy": 1.01}"#, 400, "invalid_field"),
        (#"{"new_id": "x"}"#, 400, "invalid_field"),
        (#"{"rank": 2}"#, 400, "invalid_field"),
        (#"{"new_id": "a/b", "rank": 2}"#, 400, "invalid_adapter_id"),
    ] {
        let bad = try live.post("/adapters/dora/truncate", json: body)
        #expect(bad.status == status && bad.errorCode == code, "\(body): \(bad.text)")
    }
    #expect(try live.post("/adapters/nope/truncate", json: #"{"new_id": "x", "rank": 2}"#).status == 404)
}

@Test func uploadTruncatesToMaxRankOrEnergy() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    let reply = try live.upload(id: "q2", adapter: "qwen2-lora", query: "?max_rank=2")
    #expect(reply.status == 201, "\(reply.text)")
    #expect(reply.json["rank"] as? Int == 2)
    let truncation = try #require(reply.json["truncation"] as? [String: Any])
    #expect(truncation["applied"] as? Bool == true && truncation["from_rank"] as? Int == 8 && truncation["max_rank"] as? Int == 2)
    let error = try #require((truncation["relative_error"] as? NSNumber)?.doubleValue)
    #expect(error > 0 && error < 1)
    // The stored adapter equals the peft-checked fixture truncation qwen2-lora-r2 (same logits).
    let expected = try JSONDecoder().decode(ExpectedOutput.self, from: Data(contentsOf:
        Fixtures.directory.appendingPathComponent("truncation/expected/qwen2-lora-r2.json")))
    let model = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let stored = try LoRAAdapter(directory: live.adapterDirectory.appendingPathComponent("q2"), model: model)
    guard case .decoder(let decoder) = model else { return }
    let logits = try decoder.logits(tokens: expected.tokens, overlay: UnmergedAdapter(stored))
    #expect(maxAbsDifference(logits.storage, expected.logits!.flatMap { $0 }) <= 1e-4)

    // Nothing to cut: stored as uploaded, and said so.
    let same = try live.upload(id: "q8", adapter: "qwen2-lora", query: "?max_rank=16")
    #expect(same.status == 201 && (same.json["truncation"] as? [String: Any])?["applied"] as? Bool == false)
    let energy = try live.post("/adapters?energy=0.9", json: #"{"id": "qe", "path": "qwen2-lora"}"#)
    #expect(energy.status == 201 && (energy.json["truncation"] as? [String: Any])?["energy"] as? Double == 0.9, "\(energy.text)")
    for query in ["?max_rank=0", "?max_rank=x", "?energy=2", "?max_rank=2&energy=0.9"] {
        let bad = try live.upload(id: "bad", adapter: "qwen2-lora", query: query)
        #expect(bad.status == 400 && bad.errorCode == "invalid_field", "\(query): \(bad.text)")
    }
}

@Test func serverMaxAdapterRankTruncatesByDefaultAndRankLimitRefuses() throws {
    let live = try LiveServer(model: "qwen2-tiny") { $0.maxAdapterRank = 4; $0.rankLimit = 6 }
    defer { live.stop() }
    // --rank-limit refuses before any truncation: r = 8 exceeds 6 even when the upload asks for 2.
    for query in ["", "?max_rank=2"] {
        let refused = try live.upload(id: "big", adapter: "qwen2-lora", query: query)
        #expect(refused.status == 400 && refused.errorCode == "invalid_adapter" && refused.text.contains("6"), "\(refused.text)")
    }
    let live2 = try LiveServer(model: "qwen2-tiny") { $0.maxAdapterRank = 4 }
    defer { live2.stop() }
    let reply = try live2.upload(id: "q", adapter: "qwen2-lora")
    #expect(reply.status == 201 && reply.json["rank"] as? Int == 4 && (reply.json["truncation"] as? [String: Any])?["max_rank"] as? Int == 4)
}
